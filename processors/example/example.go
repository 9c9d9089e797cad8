// Package example is the smallest useful processor: it reacts with a heart
// to messages that thank Maria. Copy it to start your own.
package example

import (
	"context"
	"strings"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/schemas"
)

// Processor subscribes to messages and mentions and publishes a reaction.
func Processor() bus.Processor {
	return bus.Processor{
		Name:     "example-thanks",
		Stream:   schemas.StreamIn,
		Subjects: []string{schemas.InKindFilter(schemas.KindMessage), schemas.InKindFilter(schemas.KindMention)},
		Handle:   handle,
	}
}

func handle(ctx context.Context, m *bus.Msg) error {
	msg, err := schemas.DecodeData[schemas.SlackMessage](m.Env)
	if err != nil {
		return bus.Permanent(err)
	}
	if msg.BotID != "" || !strings.Contains(strings.ToLower(msg.Text), "thank") {
		return nil // not for us: ack and move on
	}
	react := schemas.OutReact{TS: msg.TS, Name: "heart"}
	_, err = m.Publish(ctx, schemas.OutSubject(m.Env.Team, m.Env.Channel), "thanks", schemas.TypeOutReact, react)
	return err
}
