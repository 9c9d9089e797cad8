module github.com/mariahq/maria/tests/sim

go 1.26.0

replace github.com/mariahq/maria/schemas => ../../schemas

require (
	github.com/gorilla/websocket v1.5.3
	github.com/mariahq/maria/schemas v0.0.0-00010101000000-000000000000
)
