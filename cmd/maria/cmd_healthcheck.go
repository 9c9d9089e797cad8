package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/mariahq/maria/bus"
)

// `maria healthcheck` lets a container check its own process without a shell
// or curl (the image is distroless): Docker's HEALTHCHECK and compose use it.
func init() {
	register("healthcheck", "exit 0 if this container's /readyz (or -path) answers 200: maria healthcheck [-path /healthz]", cmdHealthcheck)
}

func cmdHealthcheck(args []string) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	path := fs.String("path", "/readyz", "endpoint to probe (/readyz or /healthz)")
	timeout := fs.Duration("timeout", 4*time.Second, "give up after this long")
	addr := fs.String("addr", "", "host:port to probe (default: MARIA_HTTP_ADDR, on loopback)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *addr == "" {
		env := bus.NewEnv()
		*addr = env.Addr("MARIA_HTTP_ADDR", ":3000")
		if err := env.Err(); err != nil {
			return err
		}
	}
	url, err := probeURL(*addr, *path)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	return probe(ctx, url)
}

// probeURL turns a listen address into a URL on this host: an empty or
// wildcard host (":3000", "0.0.0.0:3000", "[::]:3000") means loopback.
func probeURL(addr, path string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("address %q: want host:port: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	return "http://" + net.JoinHostPort(host, port) + path, nil
}

func probe(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("probe %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("probe %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("probe %s: status %d: %s", url, resp.StatusCode, body)
	}
	return nil
}
