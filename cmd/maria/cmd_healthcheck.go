package main

import (
	"context"
	"time"

	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/spf13/cobra"
)

// `maria healthcheck` lets a container check its own process without a shell
// or curl (the image is distroless): Docker's HEALTHCHECK and compose use it.
func newHealthcheckCmd(*cli) *cobra.Command {
	var path, addr string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck [--path /readyz] [--addr host:port] [--timeout 4s]",
		Short: "exit 0 if this container's /readyz (or --path) answers 200",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			if addr == "" {
				env := config.NewEnv()
				addr = env.Addr("MARIA_HTTP_ADDR", ":3000")
				if err := env.Err(); err != nil {
					return err
				}
			}
			url, err := ops.ProbeURL(addr, path)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			return ops.Probe(ctx, url)
		},
	}
	cmd.Flags().StringVar(&path, "path", "/readyz", "endpoint to probe (/readyz or /healthz)")
	cmd.Flags().DurationVar(&timeout, "timeout", 4*time.Second, "give up after this long")
	cmd.Flags().StringVar(&addr, "addr", "", "host:port to probe (default: MARIA_HTTP_ADDR, on loopback)")
	return cmd
}
