package ops

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// replayChunk is how many selected messages a replay reads at once: one
// ordered consumer per chunk instead of a stream lookup and a get per
// message, and few enough bodies in memory whatever the window's size. A
// chunk's consumer lives only while it is read, so pacing (--speed) never
// keeps one idle past its inactivity threshold.
const replayChunk = 512

// readBodies reads the selected messages part (in stream order) with their
// bodies, aligned with part. A message selected but gone since (deleted,
// expired) is an error, as reading it alone would be.
func readBodies(ctx context.Context, js jetstream.JetStream, stream, subject string, part []Selected) ([]Stored, error) {
	out := make([]Stored, 0, len(part))
	w := Window{Subject: subject, FromSeq: part[0].Sequence, ToSeq: part[len(part)-1].Sequence}
	err := Scan(ctx, js, stream, w, ScanOptions{}, func(s Stored) (bool, error) {
		want := part[len(out)].Sequence
		switch {
		case s.Sequence < want:
			return true, nil // between two selected messages: not selected
		case s.Sequence > want:
			return false, fmt.Errorf("stream %s seq %d: no longer in the stream", stream, want)
		}
		out = append(out, s)
		return len(out) < len(part), nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) < len(part) {
		return nil, fmt.Errorf("stream %s seq %d: no longer in the stream", stream, part[len(out)].Sequence)
	}
	return out, nil
}
