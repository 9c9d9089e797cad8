package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// slackTS is the shape of a Slack message ts ("1700000000.000100").
var slackTS = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)

// ResolveTurn turns what an operator has at hand into the turn id trace
// follows: a turn id (t-…) as it is; the id of a message ingress
// published — a Slack event id (Ev…), which is the envelope id of a
// message, mention, reaction or assistant event, or the id of a command
// or click — into that message's correlation id; a message ts into the
// turn of the message posted at that ts. Only MARIA_IN is searched (since
// `since`), headers only unless a ts is asked for. Anything else, or
// anything not found, is taken as a correlation id as given (an id from a
// log line, or a turn from before turn ids).
func ResolveTurn(ctx context.Context, js jetstream.JetStream, q string, since time.Time) (string, error) {
	if q == "" {
		return "", errors.New("trace needs a turn id, a Slack event id or a message ts")
	}
	if schemas.IsTurnID(q) {
		return q, nil
	}
	byTS := slackTS.MatchString(q)
	turns := map[string]string{} // turn → channel, for an ambiguous ts
	err := Scan(ctx, js, schemas.StreamIn, Window{Since: since}, ScanOptions{HeadersOnly: !byTS, Batch: 1024}, func(s Stored) (bool, error) {
		corr := s.Header.Get(schemas.HeaderCorrelationID)
		if corr == "" {
			return true, nil
		}
		if s.Header.Get(schemas.HeaderMsgID) == q {
			turns = map[string]string{corr: ""}
			return false, nil
		}
		if byTS {
			if channel, ok := postedAt(s.Data, q); ok {
				turns[corr] = channel
			}
		}
		return true, nil
	})
	if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return "", fmt.Errorf("find %s in %s: %w", q, schemas.StreamIn, err)
	}
	switch len(turns) {
	case 0:
		return q, nil
	case 1:
		for t := range turns {
			return t, nil
		}
	}
	var each []string
	for t, ch := range turns {
		each = append(each, t+" in "+ch)
	}
	sort.Strings(each)
	return "", fmt.Errorf("messages were posted at %s in %d conversations: trace one of %s", q, len(turns), strings.Join(each, ", "))
}

// postedAt reports whether the ingress envelope in data is the message
// (or one of its files) posted at ts, and in which channel.
func postedAt(data []byte, ts string) (string, bool) {
	var env struct {
		Channel string `json:"channel"`
		Data    struct {
			TS string `json:"ts"`
		} `json:"data"`
	}
	if json.Unmarshal(data, &env) != nil || env.Data.TS != ts {
		return "", false
	}
	return env.Channel, true
}
