package smoke

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"
)

// identity is the installation the bot token belongs to: what a real
// event from that workspace names (team_id, api_app_id, the bot user in
// the mention) and how Maria's replies are recognised (user or bot_id).
type identity struct {
	Team, BotUser, BotID, AppID string
}

// whoAmI asks Slack who the bot token is (auth.test) and, unless given,
// which app it belongs to (bots.info): the synthetic event must come
// from the installation an allow-list (MARIA_ALLOWED_*) admits.
func whoAmI(ctx context.Context, api *slack.Client, appID string) (identity, error) {
	auth, err := api.AuthTestContext(ctx)
	if err != nil {
		return identity{}, fmt.Errorf("slack auth.test with SLACK_BOT_TOKEN: %w", err)
	}
	id := identity{Team: auth.TeamID, BotUser: auth.UserID, BotID: auth.BotID, AppID: appID}
	if id.AppID == "" {
		bot, err := api.GetBotInfoContext(ctx, slack.GetBotInfoParameters{Bot: auth.BotID, TeamID: auth.TeamID})
		if err != nil {
			return identity{}, fmt.Errorf("slack bots.info %s (to find the app id; or pass --app-id): %w", auth.BotID, err)
		}
		id.AppID = bot.AppID
	}
	return id, nil
}

// postAnchor posts the message the synthetic mention stands for: Maria
// replies in its thread, and Slack refuses a reply to a thread that does
// not exist (thread_not_found).
func postAnchor(ctx context.Context, api *slack.Client, channel string) (string, error) {
	text := fmt.Sprintf("Smoke check %s: Maria answers a synthetic mention in this thread.", time.Now().UTC().Format(time.RFC3339))
	_, ts, err := api.PostMessageContext(ctx, channel, slack.MsgOptionText(text, false))
	if err != nil {
		return "", fmt.Errorf("slack chat.postMessage in %s (the smoke check's thread): %w", channel, err)
	}
	return ts, nil
}
