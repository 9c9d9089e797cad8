module github.com/mariahq/maria/tests

go 1.26.0

replace github.com/mariahq/maria/schemas => ../schemas
replace github.com/mariahq/maria/bus => ../bus
replace github.com/mariahq/maria/ingress => ../ingress
replace github.com/mariahq/maria/egress => ../egress
replace github.com/mariahq/maria/processors => ../processors
replace github.com/mariahq/maria/cmd/maria => ../cmd/maria

require (
	github.com/mariahq/maria/bus v0.0.0-00010101000000-000000000000
	github.com/mariahq/maria/egress v0.0.0-00010101000000-000000000000
	github.com/mariahq/maria/ingress v0.0.0-00010101000000-000000000000
	github.com/mariahq/maria/processors v0.0.0-00010101000000-000000000000
	github.com/mariahq/maria/schemas v0.0.0-00010101000000-000000000000
)
