package installs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mariahq/maria/bus/sealed"
)

// stored is an installation as it rests in a store: its metadata in clear
// (an operator can see who installed what) and its tokens in one sealed
// blob bound to the store key.
type stored struct {
	Installation
	Secrets []byte `json:"secrets"`
}

type secrets struct {
	BotToken         string `json:"bot_token,omitempty"`
	BotRefreshToken  string `json:"bot_refresh_token,omitempty"`
	UserToken        string `json:"user_token,omitempty"`
	UserRefreshToken string `json:"user_refresh_token,omitempty"`
}

// Encode seals in's tokens with ring and returns what a store keeps.
func Encode(ctx context.Context, ring *sealed.Keyring, in Installation) ([]byte, error) {
	plain, err := json.Marshal(secrets{in.BotToken, in.BotRefreshToken, in.UserToken, in.UserRefreshToken})
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", in, err)
	}
	box, err := ring.Seal(ctx, plain, []byte(in.Key()))
	wipe(plain)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", in, err)
	}
	return json.Marshal(stored{Installation: in, Secrets: box})
}

// Decode opens what Encode made for key (the sealed tokens open only
// under the key they were sealed for).
func Decode(ctx context.Context, ring *sealed.Keyring, key string, raw []byte) (Installation, error) {
	var s stored
	if err := json.Unmarshal(raw, &s); err != nil {
		return Installation{}, fmt.Errorf("decode installation %s: %w", key, err)
	}
	if s.Key() != key {
		return Installation{}, fmt.Errorf("decode installation %s: record is for %s", key, s.Key())
	}
	plain, err := ring.Open(ctx, s.Secrets, []byte(key))
	if err != nil {
		return Installation{}, fmt.Errorf("decode installation %s: %w", key, err)
	}
	defer wipe(plain)
	var sec secrets
	if err := json.Unmarshal(plain, &sec); err != nil {
		return Installation{}, fmt.Errorf("decode installation %s: tokens: %w", key, err)
	}
	in := s.Installation
	in.BotToken, in.BotRefreshToken, in.UserToken, in.UserRefreshToken = sec.BotToken, sec.BotRefreshToken, sec.UserToken, sec.UserRefreshToken
	return in, nil
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
