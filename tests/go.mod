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

require (
	github.com/agext/levenshtein v1.2.1 // indirect
	github.com/apparentlymart/go-textseg/v15 v15.0.0 // indirect
	github.com/apparentlymart/go-textseg/v17 v17.0.1 // indirect
	github.com/hashicorp/hcl/v2 v2.25.0 // indirect
	github.com/mitchellh/go-wordwrap v1.0.1 // indirect
	github.com/zclconf/go-cty v1.19.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/mod v0.29.0 // indirect
	golang.org/x/sync v0.18.0 // indirect
	golang.org/x/text v0.31.0 // indirect
	golang.org/x/tools v0.38.0 // indirect
)
