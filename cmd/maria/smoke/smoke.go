// Package smoke checks a deployed Maria from the outside, the way a user
// meets her: it posts an anchor message in a test channel, delivers a
// synthetic app_mention on it to the real ingress (signed like Slack signs,
// X-Slack-Signature v0, fresh timestamp, unique event id) and waits for
// Maria's reply in that thread (conversations.replies with the bot token).
// A pass means ingress, the bus, ai and egress all work in that deployment
// with its real Slack credentials; `maria smoke` runs it after a deploy.
package smoke

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// DefaultText is what the synthetic mention asks: "help" is answered by ai
// itself (no model, no ERP), so a smoke check costs no tokens and touches
// no company data, yet crosses ingress → MARIA_IN → ai → MARIA_OUT → egress
// → Slack.
const DefaultText = "help"

// Config says where and as whom the check runs.
type Config struct {
	// IngressURL is the base URL Slack posts to (the events path
	// /slack/events is appended; a URL already ending with it is kept).
	IngressURL string
	// Channel is the test channel (Maria must be a member); User the
	// member the synthetic mention claims to come from.
	Channel, User string
	// Text is the question (default DefaultText).
	Text string
	// SigningSecret signs the event (SLACK_SIGNING_SECRET of that ingress);
	// BotToken reads the thread and posts the anchor (SLACK_BOT_TOKEN).
	SigningSecret, BotToken string
	// APIURL is the Slack Web API base (default slack.APIURL).
	APIURL string
	// AppID is the app's id (api_app_id); empty: looked up with bots.info.
	AppID string
	// Timeout bounds the whole check (default 60 s); PollEvery is the
	// conversations.replies period (default 1 s: Tier 3 allows 50 a minute).
	Timeout, PollEvery time.Duration
	// HTTP posts the event (default: a client with a 10 s timeout).
	HTTP *http.Client
}

// Result is a passed check.
type Result struct {
	// Latency runs from the event's delivery to the reply seen in Slack
	// (at most one poll period late).
	Latency time.Duration
	// EventID is the synthetic event's id; Thread the anchor's ts.
	EventID, Thread string
	// Reply is the text of Maria's first reply.
	Reply string
}

// Validate reports every missing or malformed setting at once, on one line.
func (c Config) Validate() error {
	var errs []string
	if c.IngressURL == "" {
		errs = append(errs, "--ingress-url is required (the URL Slack posts events to)")
	} else if u, err := url.Parse(c.IngressURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Sprintf("--ingress-url %q: want an http(s) URL", c.IngressURL))
	}
	if c.Channel == "" {
		errs = append(errs, "--channel is required (a test channel Maria is a member of)")
	}
	if c.User == "" {
		errs = append(errs, "--user is required (the member the synthetic mention comes from)")
	}
	if c.SigningSecret == "" {
		errs = append(errs, "SLACK_SIGNING_SECRET is required (signs the synthetic event)")
	}
	if c.BotToken == "" {
		errs = append(errs, "SLACK_BOT_TOKEN is required (reads the reply)")
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Text == "" {
		c.Text = DefaultText
	}
	if c.APIURL == "" {
		c.APIURL = slack.APIURL
	}
	if c.Timeout <= 0 {
		c.Timeout = 60 * time.Second
	}
	if c.PollEvery <= 0 {
		c.PollEvery = time.Second
	}
	if c.HTTP == nil {
		c.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	c.IngressURL = strings.TrimSuffix(strings.TrimRight(c.IngressURL, "/"), "/slack/events")
	return c
}

// Run performs the check: nil error and the latency when Maria replied in
// the thread within the timeout; otherwise an error whose text is the
// one-line reason.
func Run(ctx context.Context, c Config) (Result, error) {
	if err := c.Validate(); err != nil {
		return Result{}, err
	}
	c = c.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	api := slack.New(c.BotToken, slack.OptionAPIURL(c.APIURL))
	id, err := whoAmI(ctx, api, c.AppID)
	if err != nil {
		return Result{}, err
	}
	anchor, err := postAnchor(ctx, api, c.Channel)
	if err != nil {
		return Result{}, err
	}
	sent := time.Now()
	eventID, err := deliver(ctx, c, id, anchor)
	if err != nil {
		return Result{}, err
	}
	reply, err := awaitReply(ctx, api, c, id, anchor)
	if err != nil {
		return Result{EventID: eventID, Thread: anchor}, fmt.Errorf("%w (event %s, thread %s in %s)", err, eventID, anchor, c.Channel)
	}
	return Result{Latency: time.Since(sent), EventID: eventID, Thread: anchor, Reply: reply}, nil
}
