package smoke

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/mariahq/maria/tests/sim/slackevents"
)

// deliver posts the synthetic app_mention on the anchor message to ingress,
// signed with the signing secret as Slack signs (slackevents: the same
// payloads and signature the end-to-end suites deliver), and returns its
// event id. Anything but 200 is the reason the check fails: 401 a wrong
// signing secret, 403 an installation the allow-list refuses, 503 a bus
// that did not store the event.
func deliver(ctx context.Context, c Config, id identity, anchor string) (string, error) {
	client := &slackevents.Client{BaseURL: c.IngressURL, SigningSecret: c.SigningSecret,
		Team: id.Team, BotUserID: id.BotUser, AppID: id.AppID, HTTP: c.HTTP}
	text := client.MentionText(c.Text)
	d, err := client.Event(ctx, slackevents.AppMentionEvent(id.Team, c.Channel, c.User, text, anchor, ""))
	if err != nil {
		return "", fmt.Errorf("ingress %s did not take the event: %w", c.IngressURL, err)
	}
	if d.Status != http.StatusOK {
		return "", fmt.Errorf("ingress %s answered %d to the signed event: %s", c.IngressURL, d.Status, oneLine(d.Body))
	}
	return d.ID, nil
}

// oneLine keeps an answer body short and on one line for the reason.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
