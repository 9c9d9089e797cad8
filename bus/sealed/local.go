package sealed

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeySize is the size of master and data keys: AES-256.
const KeySize = 32

// localWrapper wraps data keys with a master key held in memory.
type localWrapper struct {
	id   string
	aead cipher.AEAD
}

// NewLocal returns a KeyWrapper around a 32-byte master key named id.
func NewLocal(id string, key []byte) (KeyWrapper, error) {
	if err := checkKeyID(id); err != nil {
		return nil, err
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("encryption key %q: %d bytes, want %d", id, len(key), KeySize)
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, fmt.Errorf("encryption key %q: %w", id, err)
	}
	return &localWrapper{id: id, aead: aead}, nil
}

func (w *localWrapper) ID() string { return w.id }

// Wrap returns nonce ‖ ciphertext; the key id is the additional data, so a
// wrapped key moved under another id's name does not unwrap.
func (w *localWrapper) Wrap(_ context.Context, dataKey []byte) ([]byte, error) {
	nonce := make([]byte, w.aead.NonceSize(), w.aead.NonceSize()+len(dataKey)+w.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("wrap with %q: nonce: %w", w.id, err)
	}
	return w.aead.Seal(nonce, nonce, dataKey, []byte(w.id)), nil
}

func (w *localWrapper) Unwrap(_ context.Context, wrapped []byte) ([]byte, error) {
	n := w.aead.NonceSize()
	if len(wrapped) < n+w.aead.Overhead() {
		return nil, fmt.Errorf("unwrap with %q: %w", w.id, errors.New("wrapped key too short"))
	}
	key, err := w.aead.Open(nil, wrapped[:n], wrapped[n:], []byte(w.id))
	if err != nil {
		return nil, fmt.Errorf("unwrap with %q: %w", w.id, ErrCorrupt)
	}
	return key, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
