module github.com/mariahq/maria/tests

go 1.26.0

replace github.com/mariahq/maria/schemas => ../schemas
replace github.com/mariahq/maria/bus => ../bus
replace github.com/mariahq/maria/ingress => ../ingress
replace github.com/mariahq/maria/egress => ../egress
replace github.com/mariahq/maria/processors => ../processors
replace github.com/mariahq/maria/cmd/maria => ../cmd/maria
