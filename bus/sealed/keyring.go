package sealed

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrCorrupt means a sealed record does not open: altered, truncated,
// sealed for other additional data, or wrapped by another key of the
// same name. Nothing about the plaintext is revealed either way.
var ErrCorrupt = errors.New("sealed: record does not authenticate")

// ErrUnknownKey means a record was wrapped by a master key the keyring no
// longer holds: put that key back (after the current one) in
// MARIA_ENCRYPTION_KEYS, or re-seal the record before retiring a key.
var ErrUnknownKey = errors.New("sealed: record wrapped by a key not in the keyring")

// formatV1 is the first byte of every record; a new layout gets a new one.
const formatV1 = 1

// Keyring seals with its current master key and opens with any of its keys.
type Keyring struct {
	current KeyWrapper
	byID    map[string]KeyWrapper
}

// NewKeyring seals with current and opens records of current and older
// (keys being retired after a rotation). Ids must be unique.
func NewKeyring(current KeyWrapper, older ...KeyWrapper) (*Keyring, error) {
	if current == nil {
		return nil, errors.New("sealed: a keyring needs a current key")
	}
	k := &Keyring{current: current, byID: map[string]KeyWrapper{}}
	for _, w := range append([]KeyWrapper{current}, older...) {
		if err := checkKeyID(w.ID()); err != nil {
			return nil, err
		}
		if _, dup := k.byID[w.ID()]; dup {
			return nil, fmt.Errorf("sealed: key id %q appears twice", w.ID())
		}
		k.byID[w.ID()] = w
	}
	return k, nil
}

// CurrentKeyID names the key new records are wrapped with (safe to log).
func (k *Keyring) CurrentKeyID() string { return k.current.ID() }

// Seal encrypts plaintext under a fresh data key wrapped by the current
// master key. aad is not stored: Open must be given the same bytes.
//
// Layout: version ‖ u16 len ‖ key id ‖ u16 len ‖ wrapped data key ‖ nonce ‖
// ciphertext. The header (everything before the nonce) is authenticated
// with aad, so neither the key id nor the wrapped key can be swapped.
func (k *Keyring) Seal(ctx context.Context, plaintext, aad []byte) ([]byte, error) {
	dataKey := make([]byte, KeySize)
	if _, err := rand.Read(dataKey); err != nil {
		return nil, fmt.Errorf("seal: data key: %w", err)
	}
	defer wipe(dataKey)
	wrapped, err := k.current.Wrap(ctx, dataKey)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if len(wrapped) > 0xffff {
		return nil, fmt.Errorf("seal: wrapped key of %d bytes", len(wrapped))
	}
	id := k.current.ID()
	aead, err := newGCM(dataKey)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	out := make([]byte, 0, 1+2+len(id)+2+len(wrapped)+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out = append(out, formatV1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(id)))
	out = append(out, id...)
	out = binary.BigEndian.AppendUint16(out, uint16(len(wrapped)))
	out = append(out, wrapped...)
	header := len(out)
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plaintext, additional(out[:header], aad)), nil
}

// Open decrypts a record Seal made with the same aad, with whichever key of
// the ring wrapped it.
func (k *Keyring) Open(ctx context.Context, sealed, aad []byte) ([]byte, error) {
	r, err := parse(sealed)
	if err != nil {
		return nil, err
	}
	w, ok := k.byID[r.keyID]
	if !ok {
		return nil, fmt.Errorf("open: key %q: %w", r.keyID, ErrUnknownKey)
	}
	dataKey, err := w.Unwrap(ctx, r.wrapped)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	defer wipe(dataKey)
	aead, err := newGCM(dataKey)
	if err != nil {
		return nil, fmt.Errorf("open: %w", ErrCorrupt)
	}
	body := sealed[r.header:]
	if len(body) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("open: %w", ErrCorrupt)
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, body[:n], body[n:], additional(sealed[:r.header], aad))
	if err != nil {
		return nil, fmt.Errorf("open: %w", ErrCorrupt)
	}
	return plain, nil
}

// KeyID names the master key that wrapped a record, without opening it:
// to find the records still wrapped by a key about to be retired.
func KeyID(sealed []byte) (string, error) {
	r, err := parse(sealed)
	return r.keyID, err
}

type record struct {
	keyID   string
	wrapped []byte
	header  int // length of the header: where the nonce starts
}

func parse(b []byte) (record, error) {
	if len(b) < 1 || b[0] != formatV1 {
		return record{}, fmt.Errorf("open: unknown record format: %w", ErrCorrupt)
	}
	p := 1
	field := func() ([]byte, bool) {
		if len(b) < p+2 {
			return nil, false
		}
		n := int(binary.BigEndian.Uint16(b[p:]))
		if len(b) < p+2+n {
			return nil, false
		}
		f := b[p+2 : p+2+n]
		p += 2 + n
		return f, true
	}
	id, ok1 := field()
	wrapped, ok2 := field()
	if !ok1 || !ok2 {
		return record{}, fmt.Errorf("open: truncated record: %w", ErrCorrupt)
	}
	return record{keyID: string(id), wrapped: wrapped, header: p}, nil
}

// additional is what the data ciphertext authenticates: the header, then
// the caller's aad (the header is self-delimiting, so the join is
// unambiguous).
func additional(header, aad []byte) []byte {
	return append(append(make([]byte, 0, len(header)+len(aad)), header...), aad...)
}

func checkKeyID(id string) error {
	if id == "" || len(id) > 0xffff {
		return fmt.Errorf("sealed: key id %q: want 1..65535 bytes", id)
	}
	return nil
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
