package ops

import (
	"context"
	"errors"
	"fmt"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// MissingStreamError says in one line that a stream an operator command reads
// does not exist, instead of JetStream's raw "nats: API error: code=404 …
// stream not found". It unwraps to jetstream.ErrStreamNotFound.
type MissingStreamError struct{ Stream string }

func (e *MissingStreamError) Error() string {
	if e.Stream == schemas.StreamDLQ {
		return "no dead letters here: the " + schemas.StreamDLQ + " stream does not exist on this server (no Maria service has declared its streams here yet)"
	}
	return fmt.Sprintf("stream %s does not exist on this server (maria streams lists the streams there)", e.Stream)
}

func (e *MissingStreamError) Unwrap() error { return jetstream.ErrStreamNotFound }

// OpenStream looks a stream up for an operator command: the one place where
// "stream not found" becomes a MissingStreamError.
func OpenStream(ctx context.Context, js jetstream.JetStream, stream string) (jetstream.Stream, error) {
	st, err := js.Stream(ctx, stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, &MissingStreamError{Stream: stream}
	}
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", stream, err)
	}
	return st, nil
}
