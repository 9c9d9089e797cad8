package ai

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

type statusRecorder struct {
	mu   sync.Mutex
	keys []string
	pub  chan struct{}
}

func (r *statusRecorder) publish(_ context.Context, key, _ string) error {
	r.mu.Lock()
	r.keys = append(r.keys, key)
	r.mu.Unlock()
	select {
	case r.pub <- struct{}{}:
	default:
	}
	return nil
}

func (r *statusRecorder) published() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.keys...)
}

func TestStatusLine(t *testing.T) {
	for _, tc := range []struct {
		name      string
		delay     time.Duration
		run       func(s *statusLine)
		waitOne   bool // a status is due: wait for its publish before stopping
		want      []string
		wantShown bool
	}{
		{name: "a quick turn shows no status", delay: time.Hour,
			run: func(s *statusLine) { _ = s.set("status-thinking", "is thinking…") }},
		{name: "the answer's text cancels the pending status", delay: time.Hour,
			run: func(s *statusLine) { _ = s.set("status-thinking", "is thinking…"); s.cancel() }},
		{name: "a status current for the delay is shown", delay: time.Millisecond, waitOne: true,
			run:  func(s *statusLine) { _ = s.set("status-thinking", "is thinking…") },
			want: []string{"status-thinking"}, wantShown: true},
		{name: "a newer status replaces a pending one", delay: time.Hour, waitOne: true,
			run: func(s *statusLine) {
				_ = s.set("status-thinking", "is thinking…")
				s.delay = time.Millisecond
				_ = s.set("status-tools-0", "is looking up sale.order…")
			},
			want: []string{"status-tools-0"}, wantShown: true},
		{name: "a wait is shown at once", delay: time.Hour,
			run:  func(s *statusLine) { _ = s.setNow("status-wait-model-1", "is waiting for the AI service…") },
			want: []string{"status-wait-model-1"}, wantShown: true},
		{name: "no delay publishes at once", delay: 0,
			run:  func(s *statusLine) { _ = s.set("status-thinking", "is thinking…") },
			want: []string{"status-thinking"}, wantShown: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &statusRecorder{pub: make(chan struct{}, 8)}
			s := &statusLine{publish: r.publish, ctx: context.Background(), delay: tc.delay, log: zerolog.Nop()}
			tc.run(s)
			if tc.waitOne {
				select {
				case <-r.pub:
				case <-time.After(10 * time.Second):
					t.Fatal("the due status was never published")
				}
			}
			shown := s.stop()
			_ = s.set("status-late", "after the end") // ignored: the line is stopped
			got := r.published()
			if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
				t.Fatalf("published %v, want %v", got, tc.want)
			}
			if shown != tc.wantShown {
				t.Fatalf("shown = %v, want %v", shown, tc.wantShown)
			}
		})
	}
}
