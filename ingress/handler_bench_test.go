package ingress

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// acker stores nothing and acknowledges at once: the benchmark measures
// ingress' own work per request (verify, normalize, encode), not the bus.
type acker struct{ seq uint64 }

func (a *acker) Publish(_ context.Context, subject string, env *schemas.Envelope) (*jetstream.PubAck, error) {
	if _, err := bus.EnvelopeMsg(context.Background(), subject, env); err != nil {
		return nil, err
	}
	a.seq++
	return &jetstream.PubAck{Stream: schemas.StreamIn, Sequence: a.seq}, nil
}

func (a *acker) PublishDeadLetter(context.Context, bus.DeadLetter) error { return nil }

// BenchmarkEventsHandler is one signed app_mention through the Events API
// handler, up to the 200, with the bus answering at once: the CPU and
// allocations ingress itself spends per Slack event.
func BenchmarkEventsHandler(b *testing.B) {
	in := New(testConfig(), &acker{}, zerolog.Nop(), nil)
	mux := http.NewServeMux()
	in.Routes(mux)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	bodies := make([][]byte, 256)
	sigs := make([]string, len(bodies))
	var cb map[string]any
	if err := json.Unmarshal(readTestdata(b, "app_mention.json"), &cb); err != nil {
		b.Fatal(err)
	}
	for i := range bodies {
		cb["event_id"] = "EvBENCH" + strconv.Itoa(i) // distinct events, as Slack sends them
		body, err := json.Marshal(cb)
		if err != nil {
			b.Fatal(err)
		}
		m := hmac.New(sha256.New, []byte(testSecret))
		m.Write([]byte("v0:" + ts + ":"))
		m.Write(body)
		bodies[i], sigs[i] = body, "v0="+hex.EncodeToString(m.Sum(nil))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		k := i % len(bodies)
		r := httptest.NewRequest(http.MethodPost, schemas.SlackPathEvents, bytes.NewReader(bodies[k]))
		r.Header.Set("Content-Type", ctJSON)
		r.Header.Set("X-Slack-Request-Timestamp", ts)
		r.Header.Set("X-Slack-Signature", sigs[k])
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
