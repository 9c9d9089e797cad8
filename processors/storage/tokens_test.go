package storage

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/installs"
)

type teamTokens map[string]string

func (m teamTokens) BotToken(_ context.Context, team string) (string, error) {
	if team == "TDOWN" {
		return "", errors.New("store unavailable")
	}
	if tok, ok := m[team]; ok {
		return tok, nil
	}
	return "", fmt.Errorf("team %s: %w", team, installs.ErrNotInstalled)
}

func TestTokenFor(t *testing.T) {
	multi := teamTokens{"TA": "xoxb-a", "TB": "xoxb-b"}
	for _, tc := range []struct {
		name      string
		single    string
		tokens    TokenSource
		team      string
		want      string
		permanent bool
	}{
		{"single workspace", "xoxb-single", nil, "TA", "xoxb-single", false},
		{"single workspace without a token", "", nil, "TA", "", true},
		{"each workspace its own", "xoxb-single", multi, "TB", "xoxb-b", false},
		{"not installed is dead-lettered", "", multi, "TGONE", "", true},
		{"store down is retried", "", multi, "TDOWN", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &downloader{token: tc.single, tokens: tc.tokens}
			got, err := d.tokenFor(context.Background(), tc.team, "F1")
			if got != tc.want {
				t.Fatalf("token %q, want %q (err %v)", got, tc.want, err)
			}
			if tc.want == "" && err == nil {
				t.Fatal("no token and no error")
			}
			if bus.IsPermanent(err) != tc.permanent {
				t.Fatalf("permanent=%v, want %v: %v", bus.IsPermanent(err), tc.permanent, err)
			}
		})
	}
}
