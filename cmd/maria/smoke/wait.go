package smoke

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"
)

// errNoReply is the timeout's reason: the event was taken, nothing came
// back (egress down, ai down, or MARIA_OUT not reaching Slack).
var errNoReply = errors.New("no reply from Maria in the thread")

// awaitReply polls the anchor's thread until a message from the bot other
// than the anchor appears, and returns its text. A Slack rate limit waits
// the Retry-After Slack asks for; any other Slack error ends the check.
func awaitReply(ctx context.Context, api *slack.Client, c Config, id identity, anchor string) (string, error) {
	start := time.Now()
	for {
		wait := c.PollEvery
		reply, found, err := findReply(ctx, api, c.Channel, anchor, id)
		var limited *slack.RateLimitedError
		switch {
		case found:
			return reply, nil
		case errors.As(err, &limited):
			wait = limited.RetryAfter
		case err != nil && ctx.Err() == nil:
			return "", fmt.Errorf("slack conversations.replies: %w", err)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w within %s", errNoReply, time.Since(start).Round(100*time.Millisecond))
		case <-time.After(wait):
		}
	}
}

// findReply reads the thread (every page) for a message by the bot.
func findReply(ctx context.Context, api *slack.Client, channel, anchor string, id identity) (string, bool, error) {
	params := &slack.GetConversationRepliesParameters{ChannelID: channel, Timestamp: anchor, Limit: 200}
	for {
		msgs, more, next, err := api.GetConversationRepliesContext(ctx, params)
		if err != nil {
			return "", false, err
		}
		for _, m := range msgs {
			if m.Timestamp != anchor && (m.User == id.BotUser || (id.BotID != "" && m.BotID == id.BotID)) {
				return m.Text, true, nil
			}
		}
		if !more || next == "" {
			return "", false, nil
		}
		params.Cursor = next
	}
}
