package sealed

import "context"

// KeyWrapper encrypts and decrypts data keys with one master key. ID names
// that key inside every record it wrapped, so it must stay the same for the
// key's lifetime and be unique within a Keyring.
type KeyWrapper interface {
	ID() string
	Wrap(ctx context.Context, dataKey []byte) ([]byte, error)
	Unwrap(ctx context.Context, wrapped []byte) ([]byte, error)
}
