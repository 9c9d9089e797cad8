package natsconn

import (
	"bytes"
	"fmt"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// NATS_CREDS takes either kind of file a NATS user authenticates with:
//   - a JWT credentials file (.creds: the user JWT and its nkey seed), for
//     servers run in operator/JWT mode;
//   - an nkey seed file, such as the embedded server's
//     <data dir>/nats/<user>.nk, for servers that list the user's public key.
//
// The kind is detected from the content, so the variable never needs a
// companion setting.

const jwtMarker = "BEGIN NATS USER JWT"

// CheckCreds reports whether path is a credentials file NATS_CREDS can
// use, with an error naming the variable; configuration calls it at start.
func CheckCreds(path string) error {
	_, err := credsOption(path)
	return err
}

// credsOption returns the nats.go option that authenticates with path.
func credsOption(path string) (nats.Option, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("NATS_CREDS: %w", err)
	}
	defer wipe(data)
	if bytes.Contains(data, []byte(jwtMarker)) {
		if _, err := nkeys.ParseDecoratedJWT(data); err != nil {
			return nil, fmt.Errorf("NATS_CREDS=%s: user JWT: %w", path, err)
		}
		if _, err := nkeys.ParseDecoratedUserNKey(data); err != nil {
			return nil, fmt.Errorf("NATS_CREDS=%s: the credentials file has no valid user seed: %w", path, err)
		}
		return nats.UserCredentials(path), nil
	}
	kp, err := nkeys.ParseDecoratedUserNKey(data)
	if err != nil {
		return nil, fmt.Errorf("NATS_CREDS=%s: neither a NATS .creds file (user JWT + seed) nor a user nkey seed file: %w", path, err)
	}
	kp.Wipe()
	opt, err := nats.NkeyOptionFromSeed(path)
	if err != nil {
		return nil, fmt.Errorf("NATS_CREDS=%s: %w", path, err)
	}
	return opt, nil
}
