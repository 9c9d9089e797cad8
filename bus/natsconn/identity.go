package natsconn

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// The embedded server admits no anonymous client: every user of
// Users gets an nkey, generated on the first start of a data dir and
// kept in <data dir>/nats/<user>.nk (directory 0700, files 0600). Only
// the public keys reach the server; the seed files are what clients
// present (NATS_CREDS=<data dir>/nats/<user>.nk), so whoever can read a
// file is that user, and nobody else is.

// embeddedCredsDir is the folder holding the identities of a data dir.
func embeddedCredsDir(dataDir string) string { return filepath.Join(dataDir, "nats") }

// EmbeddedCreds is the identity file of user for the embedded server on
// dataDir (absolute when dataDir resolves), whether it exists yet or not.
func EmbeddedCreds(dataDir, user string) string {
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	return filepath.Join(embeddedCredsDir(dataDir), user+".nk")
}

// embeddedUsers loads (or, missing, creates) every user's identity of
// dataDir and returns the server's view of them: public key and
// permissions, in the global account where the streams have always been.
func embeddedUsers(dataDir string) ([]*server.NkeyUser, error) {
	dir := embeddedCredsDir(dataDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("nats credentials dir: %w", err)
	}
	if err := private(dir); err != nil {
		return nil, err
	}
	out := make([]*server.NkeyUser, 0, len(users))
	for _, name := range users {
		path := filepath.Join(dir, name+".nk")
		pub, err := loadIdentity(path)
		if errors.Is(err, fs.ErrNotExist) {
			pub, err = createIdentity(path, name)
		}
		if err != nil {
			return nil, err
		}
		perms, _ := Permissions(name)
		out = append(out, &server.NkeyUser{Nkey: pub, Permissions: perms})
	}
	return out, nil
}

// loadIdentity returns the public key of the seed file at path, refusing a
// file others can read (the seed would be theirs too) or that is not a
// user seed.
func loadIdentity(path string) (string, error) {
	if err := private(path); err != nil {
		return "", err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("nats credentials: %w", err)
	}
	defer wipe(data)
	kp, err := nkeys.ParseDecoratedUserNKey(data)
	if err != nil {
		return "", fmt.Errorf("nats credentials %s are corrupt (%w): delete the file to generate a new identity, then restart every process that used it", path, err)
	}
	defer kp.Wipe()
	return kp.PublicKey()
}

// createIdentity writes a new user seed at path. Two processes starting on
// a fresh data dir race here: the file appears atomically (link of a
// complete temporary file), and the loser uses the winner's identity.
func createIdentity(path, user string) (string, error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return "", fmt.Errorf("nats credentials for %s: %w", user, err)
	}
	defer kp.Wipe()
	seed, err := kp.Seed()
	if err != nil {
		return "", fmt.Errorf("nats credentials for %s: %w", user, err)
	}
	defer wipe(seed)
	content := fmt.Appendf(nil, "# Maria embedded NATS identity %q (nkey seed: a secret, keep this file 0600).\n"+
		"# A separate process attaches as %s with NATS_CREDS=<this file>.\n%s\n", user, user, seed)
	defer wipe(content)
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+user+".nk-*")
	if err != nil {
		return "", fmt.Errorf("nats credentials for %s: %w", user, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	_, werr := tmp.Write(content)
	serr := tmp.Sync()
	if err := errors.Join(werr, serr, tmp.Close()); err != nil {
		return "", fmt.Errorf("write nats credentials for %s: %w", user, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("write nats credentials for %s: %w", user, err)
	}
	return loadIdentity(path)
}

// private refuses a file or directory that its group or others may access.
func private(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("nats credentials: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		want := "0600"
		if st.IsDir() {
			want = "0700"
		}
		return fmt.Errorf("nats credentials %s have mode %04o: others could take the identity; chmod %s it (or delete it to generate a new one)", path, perm, want)
	}
	return nil
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 'x'
	}
}
