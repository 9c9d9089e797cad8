package ingress

import "github.com/mariahq/maria/schemas"

// inbound builds an envelope ingress publishes: id is its dedup key (the
// Nats-Msg-Id, see the ingress table in schemas/README.md) and turn its
// correlation id, a schemas.TurnID. The two differ on purpose: a message
// and its app_mention are two Slack deliveries (two ids, both kept by
// the stream) of one user turn (one correlation id).
func inbound(id, turn, typ string, payload any) (*schemas.Envelope, error) {
	env, err := schemas.New(id, typ, Source, payload)
	if err != nil {
		return nil, err
	}
	env.CorrelationID = turn
	return env, nil
}

// messageTurn is the turn of a message or mention event: the message's
// (channel, ts), shared by the message event, the app_mention and the
// files; the event id when Slack sent no ts.
func (c *callbackCtx) messageTurn(channel, ts string) string {
	if channel == "" || ts == "" {
		return c.eventTurn()
	}
	return schemas.SlackMessageTurn(c.cb.TeamID, channel, ts)
}

// eventTurn is the turn of any other Events API event.
func (c *callbackCtx) eventTurn() string { return schemas.SlackEventTurn(c.cb.TeamID, c.cb.EventID) }
