package main

import (
	"fmt"
	"os"
	"time"

	"github.com/mariahq/maria/cmd/maria/smoke"
	"github.com/spf13/cobra"
)

// `maria smoke` is the deploy's end-to-end check: a signed synthetic
// mention through the real ingress must come back as Maria's reply in a
// test channel (package smoke). The deploy workflow rolls back when it fails.
func newSmokeCmd(c *cli) *cobra.Command {
	var cfg smoke.Config
	cmd := &cobra.Command{
		Use:   "smoke --ingress-url URL --channel C… --user U… [--text help] [--app-id A…] [--timeout 60s]",
		Short: "deliver a signed synthetic mention to a running ingress and wait for Maria's reply in Slack",
		Long: `smoke posts an anchor message in a test channel, delivers a synthetic app_mention
on it to the ingress at --ingress-url (signed with SLACK_SIGNING_SECRET like Slack
signs), and waits for Maria's reply in that thread (conversations.replies with
SLACK_BOT_TOKEN; SLACK_API_URL overrides the Web API base).

Exit status: 0 and the latency when Maria replied within --timeout; 1 and the
reason on one line otherwise; 2 when a flag or variable is missing (all named).`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg.SigningSecret, cfg.BotToken = os.Getenv("SLACK_SIGNING_SECRET"), os.Getenv("SLACK_BOT_TOKEN")
			cfg.APIURL = os.Getenv("SLACK_API_URL")
			if err := cfg.Validate(); err != nil {
				return usageError{err}
			}
			ctx, stop := signalContext()
			defer stop()
			res, err := smoke.Run(ctx, cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.out, "smoke: Maria replied in %s (event %s, thread %s in %s)\n",
				res.Latency.Round(time.Millisecond), res.EventID, res.Thread, cfg.Channel)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.IngressURL, "ingress-url", "", "base URL Slack posts events to, e.g. https://maria-staging.example.com")
	f.StringVar(&cfg.Channel, "channel", "", "test channel id (Maria is a member)")
	f.StringVar(&cfg.User, "user", "", "member id the synthetic mention comes from")
	f.StringVar(&cfg.Text, "text", smoke.DefaultText, "what the mention asks (help: answered without the model or the ERP)")
	f.StringVar(&cfg.AppID, "app-id", "", "the app's id (api_app_id); default: looked up with bots.info")
	f.DurationVar(&cfg.Timeout, "timeout", 60*time.Second, "give up after this long")
	return cmd
}
