package example

import (
	"context"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/claims"
	"github.com/mariahq/maria/schemas"
)

// TestExampleRepliesInThreadCountsAndClaims runs the service on an embedded
// JetStream: thanks get a reply in their thread with a count kept in KV,
// questions and bots get nothing, and the claim reaches the AI's view.
func TestExampleRepliesInThreadCountsAndClaims(t *testing.T) {
	b := bustest.New(t)
	out := bustest.Subscribe(t, b, schemas.SubjectOutAll)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The AI's side of the claim contract: it owns the bucket.
	w := claims.NewWatcher()
	ready := make(chan struct{})
	watched := make(chan struct{})
	go func() { defer close(watched); w.Run(ctx, b.JetStream(), 1, b.Log, ready) }()
	<-ready
	svc, err := Service(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; <-watched })

	cases := []struct {
		id, kind, typ, text, bot, thread string
		mentioned                        bool
	}{
		{"Ev-1", schemas.KindMention, schemas.TypeSlackMention, "<@U0MARIA> Thanks!", "", "", true},
		{"Ev-2", schemas.KindMention, schemas.TypeSlackMention, "<@U0MARIA> what is S00042?", "", "", true},
		{"Ev-3", schemas.KindMessage, schemas.TypeSlackMessage, "thanks maria", "B1", "", false},
		{"Ev-4", schemas.KindMessage, schemas.TypeSlackMessage, "<@U0MARIA> Thanks!", "", "", true}, // the twin of a mention
		{"Ev-5", schemas.KindMessage, schemas.TypeSlackMessage, "Thanks Maria, that helped", "", "17.0001", false},
	}
	for _, c := range cases {
		env, _ := schemas.New(c.id, c.typ, "ingress", schemas.SlackMessage{TS: "17.000" + c.id[3:], ThreadTS: c.thread, Text: c.text, BotID: c.bot, Mentioned: c.mentioned})
		env.Team, env.Channel, env.User = "T1", "C1", "U1"
		if _, err := b.Publish(ctx, schemas.InSubject(c.kind, "T1", "C1"), env); err != nil {
			t.Fatal(err)
		}
	}
	bustest.Eventually(t, 10*time.Second, func() bool {
		c, err := b.JetStream().Consumer(ctx, schemas.StreamIn, Durable)
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		return err == nil && info.AckFloor.Stream == uint64(len(cases))
	}, "every event handled")
	bustest.Eventually(t, 5*time.Second, func() bool { return len(out()) >= 2 }, "two replies")
	msgs := out()
	if len(msgs) != 2 {
		t.Fatalf("got %d replies, want 2 (thanks only, no bot, no twin)", len(msgs))
	}
	want := []struct{ cause, thread, text string }{
		{"Ev-1", "17.0001", "You're welcome, <@U1>! That makes 1 thanks from you."},
		{"Ev-5", "17.0001", "You're welcome, <@U1>! That makes 2 thanks from you."},
	}
	for i, w := range want {
		env, err := schemas.Decode(msgs[i].Data)
		if err != nil {
			t.Fatal(err)
		}
		post, err := schemas.DecodeData[schemas.OutPost](env)
		if err != nil {
			t.Fatal(err)
		}
		if env.Type != schemas.TypeOutPost || env.CausationID != w.cause || post.ThreadTS != w.thread || post.Text != w.text {
			t.Errorf("reply %d: %s caused by %s in thread %q: %q; want caused by %s in %q: %q", i, env.Type, env.CausationID, post.ThreadTS, post.Text, w.cause, w.thread, w.text)
		}
		if msgs[i].Subject != schemas.OutSubject("T1", "C1") {
			t.Errorf("reply %d on %s", i, msgs[i].Subject)
		}
	}
	// The claim: the AI sees the thanks as the example's, the question as nobody's.
	bustest.Eventually(t, 10*time.Second, func() bool {
		owner, ok := w.Owner(schemas.ClaimEvent{Kind: schemas.KindMention, Channel: "C1", Text: "<@U0MARIA> thank you"})
		return ok && owner == Name
	}, "a thanks is claimed by %s", Name)
	if owner, ok := w.Owner(schemas.ClaimEvent{Kind: schemas.KindMention, Channel: "C1", Text: "<@U0MARIA> what is S00042?"}); ok {
		t.Errorf("a question is claimed by %s", owner)
	}
}
