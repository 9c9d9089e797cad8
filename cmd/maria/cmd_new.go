package main

import (
	"fmt"

	"github.com/mariahq/maria/cmd/maria/scaffold"
	"github.com/spf13/cobra"
)

func newNewCmd(c *cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "new <what>",
		Short: "generate code: a new processor",
		Args:  cobra.ArbitraryArgs,
		RunE:  unknownCommand,
	}
	cmd.AddCommand(newNewProcessorCmd(c))
	return cmd
}

func newNewProcessorCmd(c *cli) *cobra.Command {
	root := "."
	cmd := &cobra.Command{
		Use:   "processor NAME [--root DIR]",
		Short: "generate processors/NAME with its registration, NATS user and deployment entries",
		Long: `Generates a processor shaped like processors/example, run from the repository
root: processors/NAME/{NAME.go,NAME_test.go}, its registration
(cmd/maria/app/svc_NAME.go), its least-privilege NATS user (bus/natsconn,
infra/nats/accounts.conf, infra/k8s/nats-values.yaml), its compose service,
its Kubernetes objects (infra/k8s/deployment-NAME.yaml) and its Terraform
var.services entry. go build and make test pass right after. Refuses a name
that exists; changes nothing when it refuses.`,
		Args: exactArgs(1, "NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			res, err := scaffold.Processor(root, args[0])
			if err != nil {
				return err
			}
			for _, f := range res.Created {
				fmt.Fprintln(c.out, "created", f)
			}
			for _, f := range res.Edited {
				fmt.Fprintln(c.out, "edited ", f)
			}
			fmt.Fprintf(c.out, "\nNext: go test ./processors/%s/ ./tests/infra/, then `maria run` starts it with the others;\n"+
				"edit Claims and handle in processors/%s/%s.go (README \"Write your own processor\").\n", args[0], args[0], args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&root, "root", root, "the repository root (holding go.work)")
	return cmd
}
