// Command maria is the one binary of Maria: `maria run` starts the services
// (all, or the ones named), `maria demo` and `maria chat` run the whole
// pipeline offline, and the other subcommands operate a running pipeline.
//
// The command tree is built with cobra (spf13/cobra, the library of kubectl
// and the GitHub CLI). Each subcommand lives in its own cmd_*.go file and
// only parses flags, then calls the package holding the logic: ops
// (operator commands), demo, app (the services).
package main

import "os"

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(execute(os.Args[1:], processIO()))
}
