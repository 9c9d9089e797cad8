// Package identity keeps each Slack user's connected Odoo account: login,
// uid and personal API key, sealed at rest (bus/sealed) under a key bound
// to the (team, user) it belongs to. The backends (NATS KV, DynamoDB) store
// opaque bytes; sealing happens here, once, for all of them.
package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mariahq/maria/bus/sealed"
)

// Credential is one person's connected Odoo account.
type Credential struct {
	Team     string    `json:"team"`
	User     string    `json:"user"`
	Login    string    `json:"login"`
	UID      int64     `json:"uid"`
	Name     string    `json:"name,omitempty"`
	Key      string    `json:"key"`
	Verified time.Time `json:"verified_at"`
}

// Raw is a backend: opaque values per (team, user). Get reports found=false
// for a missing record; Delete of a missing record is not an error.
type Raw interface {
	Get(ctx context.Context, team, user string) (value []byte, found bool, err error)
	Put(ctx context.Context, team, user string, value []byte) error
	Delete(ctx context.Context, team, user string) error
}

// Store seals credentials into a Raw backend.
type Store struct {
	raw  Raw
	ring *sealed.Keyring
}

// New returns a Store over raw sealing with ring.
func New(raw Raw, ring *sealed.Keyring) *Store { return &Store{raw: raw, ring: ring} }

func aad(team, user string) []byte { return []byte("maria-erp-credential\x00" + team + "\x00" + user) }

// Get returns the person's credential; found is false when they have not
// connected.
func (s *Store) Get(ctx context.Context, team, user string) (Credential, bool, error) {
	v, found, err := s.raw.Get(ctx, team, user)
	if err != nil || !found {
		return Credential{}, false, err
	}
	plain, err := s.ring.Open(ctx, v, aad(team, user))
	if err != nil {
		return Credential{}, false, fmt.Errorf("open the Odoo credential of %s/%s: %w", team, user, err)
	}
	var c Credential
	err = json.Unmarshal(plain, &c)
	clear(plain)
	if err != nil {
		return Credential{}, false, fmt.Errorf("decode the Odoo credential of %s/%s: %w", team, user, err)
	}
	return c, true, nil
}

// Put seals and stores c under (c.Team, c.User).
func (s *Store) Put(ctx context.Context, c Credential) error {
	if c.Team == "" || c.User == "" || c.Login == "" || c.Key == "" {
		return errors.New("identity: a credential needs team, user, login and key")
	}
	plain, err := json.Marshal(c)
	if err != nil {
		return err
	}
	v, err := s.ring.Seal(ctx, plain, aad(c.Team, c.User))
	clear(plain)
	if err != nil {
		return fmt.Errorf("seal the Odoo credential: %w", err)
	}
	if err := s.raw.Put(ctx, c.Team, c.User, v); err != nil {
		return fmt.Errorf("store the Odoo credential of %s/%s: %w", c.Team, c.User, err)
	}
	return nil
}

// Delete forgets the person's credential.
func (s *Store) Delete(ctx context.Context, team, user string) error {
	if err := s.raw.Delete(ctx, team, user); err != nil {
		return fmt.Errorf("delete the Odoo credential of %s/%s: %w", team, user, err)
	}
	return nil
}
