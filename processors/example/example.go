// Package example is the processor to copy — `maria new processor NAME`
// generates one of this shape. It thanks people back: "@Maria thanks!" or
// "thanks maria" gets a reply in the thread that counts the user's thanks.
// It shows the four things every processor does:
//
//   - skips bot messages (Maria's own replies included: no loops);
//   - keeps its state in its own KV bucket through the runtime's helper
//     (kv.Typed), changed with compare-and-set so replicas never lose a count;
//   - replies in the thread with m.Publish, whose id derives from the
//     message's, so a redelivery never posts twice;
//   - claims what it handles (schemas/README.md "Claims"), so the AI does
//     not answer the same message too.
//
// It is off unless asked for: `maria run … example` or MARIA_SERVICES.
package example

import (
	"context"
	"fmt"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/claims"
	"github.com/mariahq/maria/bus/kv"
	"github.com/mariahq/maria/schemas"
)

const (
	// Name is the service name, its NATS user and the owner of its claims.
	Name = "example"
	// Durable is its consumer, shared by its replicas.
	Durable = "example-thanks"
	// Bucket holds its state: thanks per user.
	Bucket = "maria_example_thanks"
)

// Claims are the messages it answers (and the AI leaves alone): a mention
// starting with "thank", or a message starting with "thanks maria".
func Claims() []schemas.ClaimRule {
	return []schemas.ClaimRule{
		{Kinds: []string{schemas.KindMention}, Prefix: "thank"},
		{Kinds: []string{schemas.KindMessage}, Prefix: "thanks maria"},
	}
}

// thanks is one user's state: how often they thanked, and the last event
// counted, so a redelivered event is not counted twice.
type thanks struct {
	Count     int    `json:"count"`
	LastEvent string `json:"last_event"`
}

// Processor is the example's state and handler.
type Processor struct {
	thanks kv.Store[thanks]
}

// Service opens the bucket and runs the consumer with the claims announced.
func Service(ctx context.Context, b *bus.Bus) (bus.Service, error) {
	bucket, err := kv.Open(ctx, b.JetStream(), kv.Config{Bucket: Bucket, Description: "example processor: thanks per user",
		Replicas: b.Config().Replicas})
	if err != nil {
		return nil, err
	}
	p := &Processor{thanks: kv.Typed[thanks](bucket).ResetCorrupt()}
	return claims.Serve(b, Name, Claims(), bus.Processors(b, p.Consumer()))
}

// Consumer is the durable consumer on messages and mentions.
func (p *Processor) Consumer() bus.Processor {
	return bus.Processor{
		Name:     Durable,
		Stream:   schemas.StreamIn,
		Subjects: []string{schemas.InKindFilter(schemas.KindMessage), schemas.InKindFilter(schemas.KindMention)},
		// One person's thanks one at a time, in the order they were said:
		// the count is per person, and "1 thanks" must come before "2".
		// Other people's messages go on meanwhile.
		Key:    func(m *bus.Msg) string { return m.Env.Team + "/" + m.Env.User },
		Handle: p.handle,
	}
}

// handle returns nil to ack, bus.Permanent to dead-letter at once, any other
// error to retry with backoff.
func (p *Processor) handle(ctx context.Context, m *bus.Msg) error {
	msg, err := schemas.DecodeData[schemas.SlackMessage](m.Env)
	if err != nil {
		return bus.Permanent(err)
	}
	if msg.BotID != "" || m.Env.UserKind == schemas.UserKindBot {
		return nil // never answer a bot: Maria's own replies would loop
	}
	if m.Env.Type == schemas.TypeSlackMessage && msg.Mentioned {
		return nil // its app_mention twin is the one handled
	}
	ev, ok := schemas.ClaimEventOf(m.Env)
	if !ok || !claimed(ev) {
		return nil // not ours: the AI answers it
	}
	key := m.Env.Team + "." + m.Env.User
	e, err := p.thanks.Update(ctx, key, func(cur thanks, _ bool) (thanks, error) {
		if cur.LastEvent == m.Env.ID {
			return cur, kv.ErrNoChange // a redelivery: already counted
		}
		return thanks{Count: cur.Count + 1, LastEvent: m.Env.ID}, nil
	})
	if err != nil {
		return bus.Retry(fmt.Errorf("count thanks: %w", err))
	}
	thread := firstNonEmpty(msg.ThreadTS, m.Env.ThreadTS, msg.TS)
	text := fmt.Sprintf("You're welcome, <@%s>! That makes %d thanks from you.", m.Env.User, e.Value.Count)
	_, err = m.Publish(ctx, schemas.OutSubject(m.Env.Team, m.Env.Channel), "reply", schemas.TypeOutPost,
		schemas.OutPost{Text: text, ThreadTS: thread})
	return err
}

// claimed tells whether one of Claims matches ev: handle exactly what is
// claimed, so the AI and this processor never both answer or both skip.
func claimed(ev schemas.ClaimEvent) bool {
	return schemas.Claim{Rules: Claims()}.Matches(ev)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
