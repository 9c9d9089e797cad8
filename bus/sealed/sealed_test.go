package sealed_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/sealed"
	"github.com/rs/zerolog"
)

func localKey(t *testing.T, id string) sealed.KeyWrapper {
	t.Helper()
	key := make([]byte, sealed.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	w, err := sealed.NewLocal(id, key)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func ring(t *testing.T, current sealed.KeyWrapper, older ...sealed.KeyWrapper) *sealed.Keyring {
	t.Helper()
	k, err := sealed.NewKeyring(current, older...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Every way a record can be wrong fails to open with ErrCorrupt or
// ErrUnknownKey, never with a plaintext.
func TestOpenRefuses(t *testing.T) {
	ctx := context.Background()
	k1, k2 := localKey(t, "k1"), localKey(t, "k2")
	ring1 := ring(t, k1)
	rec, err := ring1.Seal(ctx, []byte("xoxb-secret"), []byte("T1"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(rec)
		b[i] ^= 0x01
		return b
	}
	// Another key that calls itself k1: its wrap does not authenticate.
	impostor := localKey(t, "k1")
	tests := []struct {
		name string
		ring *sealed.Keyring
		rec  []byte
		aad  string
		want error
	}{
		{"ciphertext tampered", ring1, flip(len(rec) - 1), "T1", sealed.ErrCorrupt},
		{"nonce tampered", ring1, flip(len(rec) - 30), "T1", sealed.ErrCorrupt},
		{"wrapped key tampered", ring1, flip(8), "T1", sealed.ErrCorrupt},
		{"key id renamed", ring(t, k1, localKey(t, "j1")), append([]byte{1, 0, 2, 'j', '1'}, rec[5:]...), "T1", sealed.ErrCorrupt},
		{"wrong aad", ring1, rec, "T2", sealed.ErrCorrupt},
		{"empty aad", ring1, rec, "", sealed.ErrCorrupt},
		{"truncated", ring1, rec[:20], "T1", sealed.ErrCorrupt},
		{"empty", ring1, nil, "T1", sealed.ErrCorrupt},
		{"unknown format", ring1, append([]byte{9}, rec[1:]...), "T1", sealed.ErrCorrupt},
		{"key not in ring", ring(t, k2), rec, "T1", sealed.ErrUnknownKey},
		{"same id other key", ring(t, impostor), rec, "T1", sealed.ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.ring.Open(ctx, tc.rec, []byte(tc.aad))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open = %q, %v; want %v", got, err, tc.want)
			}
			if strings.Contains(err.Error(), "xoxb") {
				t.Fatalf("error reveals the plaintext: %v", err)
			}
		})
	}
	if got, err := ring1.Open(ctx, rec, []byte("T1")); err != nil || string(got) != "xoxb-secret" {
		t.Fatalf("untouched record: %q, %v", got, err)
	}
}

// After a rotation new records use the new key and old records still open;
// once the old key is removed they do not, and KeyID finds them first.
func TestRotation(t *testing.T) {
	ctx := context.Background()
	old, next := localKey(t, "2025"), localKey(t, "2026")
	before, err := ring(t, old).Seal(ctx, []byte("old token"), nil)
	if err != nil {
		t.Fatal(err)
	}
	rotated := ring(t, next, old)
	after, err := rotated.Seal(ctx, []byte("new token"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for rec, want := range map[string]string{string(before): "old token", string(after): "new token"} {
		got, err := rotated.Open(ctx, []byte(rec), nil)
		if err != nil || string(got) != want {
			t.Fatalf("rotated ring opens %q as %q, %v", want, got, err)
		}
	}
	if id, _ := sealed.KeyID(after); id != "2026" {
		t.Fatalf("new record wrapped by %q, want 2026", id)
	}
	if id, _ := sealed.KeyID(before); id != "2025" {
		t.Fatalf("old record wrapped by %q, want 2025", id)
	}
	if _, err := ring(t, next).Open(ctx, before, nil); !errors.Is(err, sealed.ErrUnknownKey) {
		t.Fatalf("retired key: %v, want ErrUnknownKey", err)
	}
}

// Two seals of the same plaintext differ (fresh data key and nonce), so a
// stored record says nothing about whether two tokens are equal.
func TestSealIsRandomized(t *testing.T) {
	k := ring(t, localKey(t, "k"))
	a, _ := k.Seal(context.Background(), []byte("same"), nil)
	b, _ := k.Seal(context.Background(), []byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals are identical")
	}
	if bytes.Contains(a, []byte("same")) {
		t.Fatal("plaintext visible in the record")
	}
}

func TestReadEnv(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	tests := []struct {
		name    string
		value   string
		keys    []string
		wantErr []string
	}{
		{"unset", "", nil, nil},
		{"one", "a:" + b64(32), []string{"a"}, nil},
		{"rotation", "new:" + b64(32) + ", old:" + b64(32), []string{"new", "old"}, nil},
		{"every problem at once", "a:" + b64(16) + ",nocolon,b:!!!,a:" + b64(32) + ",a:" + b64(32),
			[]string{"a"}, []string{`"a": 16 bytes`, "entry 2", `"b": not standard base64`, `"a" appears twice`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := config.NewEnvFrom(map[string]string{"MARIA_ENCRYPTION_KEYS": tc.value})
			s := sealed.ReadEnv(env)
			var ids []string
			for _, k := range s.Keys {
				ids = append(ids, k.ID())
			}
			if strings.Join(ids, ",") != strings.Join(tc.keys, ",") {
				t.Fatalf("keys %v, want %v", ids, tc.keys)
			}
			err := env.Err()
			if len(tc.wantErr) == 0 && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			for _, w := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Fatalf("error %v, want it to mention %q", err, w)
				}
			}
			if err != nil && strings.Contains(err.Error(), b64(16)) {
				t.Fatalf("error shows a key: %v", err)
			}
		})
	}
}

// Without configuration the data dir gets one key, private, shared by
// every process that starts on it (even at the same moment).
func TestLoadDataDirKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const n = 8
	rings := make([]*sealed.Keyring, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, err := sealed.Load(ctx, sealed.Settings{}, dir, nil, zerolog.Nop())
			if err != nil {
				t.Error(err)
			}
			rings[i] = k
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	rec, err := rings[0].Seal(ctx, []byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range rings {
		if _, err := k.Open(ctx, rec, nil); err != nil {
			t.Fatalf("process %d has another key: %v", i, err)
		}
	}
	path := sealed.DataDirKeyFile(dir)
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v mode %v, want 0600", err, st.Mode().Perm())
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := sealed.Load(ctx, sealed.Settings{}, dir, nil, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "chmod 0600") {
		t.Fatalf("readable key file accepted: %v", err)
	}
}

// The configured keys win over the data dir, and MARIA_KMS_KEY_ID needs a
// KMS client.
func TestLoadConfigured(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	k := localKey(t, "configured")
	r, err := sealed.Load(ctx, sealed.Settings{Keys: []sealed.KeyWrapper{k}}, dir, nil, zerolog.Nop())
	if err != nil || r.CurrentKeyID() != "configured" {
		t.Fatalf("Load = %v, %v", r, err)
	}
	if _, err := os.Stat(sealed.DataDirKeyFile(dir)); err == nil {
		t.Fatal("a data dir key was generated although keys are configured")
	}
	if _, err := sealed.Load(ctx, sealed.Settings{KMSKeyID: "alias/maria"}, dir, nil, zerolog.Nop()); err == nil {
		t.Fatal("KMS key id accepted without a KMS client")
	}
	kms := func(context.Context, string) (sealed.KeyWrapper, error) { return localKey(t, "kms"), nil }
	r, err = sealed.Load(ctx, sealed.Settings{KMSKeyID: "alias/maria", Keys: []sealed.KeyWrapper{k}}, dir, kms, zerolog.Nop())
	if err != nil || r.CurrentKeyID() != "kms" {
		t.Fatalf("KMS keyring = %v, %v", r, err)
	}
}
