package main

import (
	"strings"

	"github.com/mariahq/maria/cmd/maria/app"
	"github.com/spf13/cobra"
)

func newRunCmd(*cli) *cobra.Command {
	return &cobra.Command{
		Use:   "run [service...]",
		Short: "start services (default: all but the opt-in example)",
		Long: "Starts the named services in this process; without names, those of MARIA_SERVICES, else the default ones: " +
			strings.Join(app.DefaultServices(), ", ") + " (registered: " + strings.Join(app.Services(), ", ") + ").",
		Args: cobra.ArbitraryArgs,
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return app.Services(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(_ *cobra.Command, args []string) error {
			ctx, stop := signalContext()
			defer stop()
			r, err := app.Start(ctx, app.Options{Services: args})
			if err != nil {
				return err
			}
			return r.Wait()
		},
	}
}
