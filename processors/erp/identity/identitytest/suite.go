// Package identitytest is the conformance suite every identity backend
// passes (NATS KV, DynamoDB).
package identitytest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/sealed"
	"github.com/mariahq/maria/processors/erp/identity"
)

// Keyring returns a throwaway keyring for tests.
func Keyring(t testing.TB) *sealed.Keyring {
	t.Helper()
	key := bytes.Repeat([]byte{7}, sealed.KeySize)
	w, err := sealed.NewLocal("test", key)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := sealed.NewKeyring(w)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

// Run checks a backend through the sealing Store: put, get, overwrite,
// delete, isolation between people, nothing readable in clear, and a
// record moved under another person not opening.
func Run(t *testing.T, raw identity.Raw) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := identity.New(raw, Keyring(t))
	key := "odoo-api-key-conformance-3f9a"
	c := identity.Credential{Team: "T1", User: "U1", Login: "demo", UID: 6, Name: "Marc Demo", Key: key, Verified: time.Now().UTC().Truncate(time.Second)}

	if _, found, err := s.Get(ctx, "T1", "U1"); err != nil || found {
		t.Fatalf("empty store: found=%v err=%v", found, err)
	}
	if err := s.Put(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, found, err := s.Get(ctx, "T1", "U1")
	if err != nil || !found || got.Key != key || got.Login != "demo" || got.UID != 6 || !got.Verified.Equal(c.Verified) {
		t.Fatalf("get = %+v, %v, %v", got, found, err)
	}
	v, _, err := raw.Get(ctx, "T1", "U1")
	if err != nil || len(v) == 0 {
		t.Fatalf("raw value: %v", err)
	}
	if bytes.Contains(v, []byte(key)) || bytes.Contains(v, []byte("demo")) {
		t.Fatal("the stored value holds the key or the login in clear")
	}
	if _, found, _ := s.Get(ctx, "T1", "U2"); found {
		t.Fatal("another user of the team sees the credential")
	}
	if _, found, _ := s.Get(ctx, "T2", "U1"); found {
		t.Fatal("the same user id in another team sees the credential")
	}
	// A sealed record copied under another person does not open.
	if err := raw.Put(ctx, "T1", "U3", v); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(ctx, "T1", "U3"); !errors.Is(err, sealed.ErrCorrupt) {
		t.Fatalf("a record moved to another user: err = %v, want ErrCorrupt", err)
	}
	c.Login, c.UID, c.Key = "sofia", 7, "another-key"
	if err := s.Put(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Get(ctx, "T1", "U1"); got.Login != "sofia" || got.Key != "another-key" {
		t.Fatalf("after overwrite: %+v", got)
	}
	if err := s.Delete(ctx, "T1", "U1"); err != nil {
		t.Fatal(err)
	}
	if _, found, err := s.Get(ctx, "T1", "U1"); err != nil || found {
		t.Fatalf("after delete: found=%v err=%v", found, err)
	}
	if err := s.Delete(ctx, "T1", "U1"); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
}
