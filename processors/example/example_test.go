package example

import (
	"context"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
)

func TestExampleReactsToThanksEndToEnd(t *testing.T) {
	b := bustest.New(t)
	out := bustest.Subscribe(t, b, schemas.SubjectOutAll)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bus.Run(ctx, b, Processor()) }()
	t.Cleanup(func() { cancel(); <-done })

	cases := []struct {
		id, text, bot string
	}{
		{"Ev-1", "Thanks Maria!", ""},
		{"Ev-2", "what is S00042?", ""},
		{"Ev-3", "thanks from a bot", "B1"},
	}
	for _, c := range cases {
		env, _ := schemas.New(c.id, schemas.TypeSlackMessage, "ingress", schemas.SlackMessage{TS: "17.0" + c.id[3:], Text: c.text, BotID: c.bot})
		env.Team, env.Channel = "T1", "C1"
		if _, err := b.Publish(ctx, schemas.InSubject(schemas.KindMessage, "T1", "C1"), env); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until the consumer acked all three, then look at what came out.
	bustest.Eventually(t, 10*time.Second, func() bool {
		c, err := b.JetStream().Consumer(ctx, schemas.StreamIn, "example-thanks")
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		return err == nil && info.AckFloor.Stream == 3
	}, "all three handled")
	bustest.Eventually(t, 5*time.Second, func() bool { return len(out()) >= 1 }, "a reaction")
	msgs := out()
	if len(msgs) != 1 {
		t.Fatalf("got %d out messages, want 1", len(msgs))
	}
	env, err := schemas.Decode(msgs[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	react, err := schemas.DecodeData[schemas.OutReact](env)
	if err != nil {
		t.Fatal(err)
	}
	if env.Type != schemas.TypeOutReact || react.Name != "heart" || react.TS != "17.01" || env.CorrelationID != "Ev-1" || env.CausationID != "Ev-1" {
		t.Fatalf("unexpected reaction %+v %+v", env, react)
	}
	if msgs[0].Subject != schemas.OutSubject("T1", "C1") {
		t.Fatalf("subject %s", msgs[0].Subject)
	}
}
