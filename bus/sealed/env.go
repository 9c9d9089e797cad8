package sealed

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/mariahq/maria/bus/config"
	"github.com/rs/zerolog"
)

// Settings is the encryption configuration of a process.
type Settings struct {
	// Keys are MARIA_ENCRYPTION_KEYS: the first seals (unless KMS is set),
	// all of them open.
	Keys []KeyWrapper
	// KMSKeyID is MARIA_KMS_KEY_ID: an AWS KMS key (id, ARN or alias) that
	// wraps new data keys; Keys then only open older records.
	KMSKeyID string
}

// ReadEnv reads MARIA_ENCRYPTION_KEYS ("id:base64 of 32 bytes", comma
// separated, current first) and MARIA_KMS_KEY_ID, reporting malformed
// entries to e (never their values: they are secrets).
func ReadEnv(e *config.Env) Settings {
	s := Settings{KMSKeyID: e.String("MARIA_KMS_KEY_ID", "")}
	raw := e.String("MARIA_ENCRYPTION_KEYS", "")
	if raw == "" {
		return s
	}
	keys, err := ParseKeys(raw)
	if err != nil {
		e.Fail(fmt.Errorf("MARIA_ENCRYPTION_KEYS: %w", err))
	}
	s.Keys = keys
	return s
}

// ParseKeys reads "id:base64,id:base64": every problem at once, naming the
// entry by position and id only.
func ParseKeys(raw string) ([]KeyWrapper, error) {
	var out []KeyWrapper
	var errs []error
	seen := map[string]bool{}
	for i, entry := range strings.Split(raw, ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(entry), ":")
		if !ok || id == "" {
			errs = append(errs, fmt.Errorf("entry %d: want id:base64-of-32-bytes", i+1))
			continue
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			errs = append(errs, fmt.Errorf("key %q: not standard base64", id))
			continue
		}
		w, err := NewLocal(id, key)
		wipe(key)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[id] {
			errs = append(errs, fmt.Errorf("key id %q appears twice", id))
			continue
		}
		seen[id] = true
		out = append(out, w)
	}
	return out, errors.Join(errs...)
}

// KMSFactory makes the KeyWrapper of an AWS KMS key (kmswrap.New); a
// process that never sets MARIA_KMS_KEY_ID may pass nil.
type KMSFactory func(ctx context.Context, keyID string) (KeyWrapper, error)

// Load builds the keyring s describes. With neither keys nor KMS it uses
// the data dir's own key, generated on first use (<data dir>/keys, 0600) —
// so `maria demo` and `make run` need no setup — and says once that
// production should set MARIA_ENCRYPTION_KEYS or MARIA_KMS_KEY_ID.
func Load(ctx context.Context, s Settings, dataDir string, kms KMSFactory, log zerolog.Logger) (*Keyring, error) {
	if s.KMSKeyID != "" {
		if kms == nil {
			return nil, errors.New("MARIA_KMS_KEY_ID is set but this process has no KMS client")
		}
		w, err := kms(ctx, s.KMSKeyID)
		if err != nil {
			return nil, fmt.Errorf("MARIA_KMS_KEY_ID: %w", err)
		}
		return NewKeyring(w, s.Keys...)
	}
	if len(s.Keys) > 0 {
		return NewKeyring(s.Keys[0], s.Keys[1:]...)
	}
	w, path, err := dataDirKey(dataDir)
	if err != nil {
		return nil, err
	}
	if _, told := warned.LoadOrStore(path, true); !told {
		log.Warn().Str("key_file", path).Str("key_id", w.ID()).
			Msg("secrets at rest are encrypted with a key generated in the data dir; set MARIA_ENCRYPTION_KEYS or MARIA_KMS_KEY_ID in production")
	}
	return NewKeyring(w)
}
