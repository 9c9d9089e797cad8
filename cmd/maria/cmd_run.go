package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mariahq/maria/cmd/maria/app"
)

func init() {
	register("run", "start services: maria run [service...] (default: all)", cmdRun)
	register("version", "print the version", func([]string) error { fmt.Println("maria", version); return nil })
}

func cmdRun(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: maria run [service...]\nservices: %s\n", strings.Join(app.Services(), ", "))
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := app.Start(ctx, app.Options{Services: fs.Args()})
	if err != nil {
		return err
	}
	return r.Wait()
}
