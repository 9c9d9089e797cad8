package sealed

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// warned holds the key files Load has already logged about, so a process
// running every service logs the fallback once.
var warned sync.Map

// DataDirKeyFile is where Load keeps the generated key of a data dir.
func DataDirKeyFile(dataDir string) string {
	return filepath.Join(dataDir, "keys", "encryption.key")
}

// dataDirKey loads (or, missing, creates) the data dir's key file: one
// line "id:base64", the same form as MARIA_ENCRYPTION_KEYS so it can be
// moved there as is. A file others may read is refused.
func dataDirKey(dataDir string) (KeyWrapper, string, error) {
	path := DataDirKeyFile(dataDir)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, path, fmt.Errorf("encryption key dir: %w", err)
	}
	w, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		w, err = createKeyFile(path)
	}
	return w, path, err
}

func readKeyFile(path string) (KeyWrapper, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("encryption key %s has mode %04o: others could read it; chmod 0600 it", path, st.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	defer wipe(data)
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		keys, err := ParseKeys(line)
		if err != nil || len(keys) != 1 {
			return nil, fmt.Errorf("encryption key %s is corrupt (%v); records sealed with it are lost if it is deleted", path, err)
		}
		return keys[0], nil
	}
	return nil, fmt.Errorf("encryption key %s holds no key", path)
}

// createKeyFile writes a new key at path atomically (link of a complete
// temporary file): two processes starting on a fresh data dir end up with
// the same key, the loser reading the winner's.
func createKeyFile(path string) (KeyWrapper, error) {
	key := make([]byte, KeySize)
	idBytes := make([]byte, 4)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	defer wipe(key)
	if _, err := rand.Read(idBytes); err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	content := []byte("# Maria's data-dir encryption key (a secret: keep this file 0600; losing it loses the tokens it sealed).\n" +
		"# Production: move this line into MARIA_ENCRYPTION_KEYS, or use MARIA_KMS_KEY_ID.\n" +
		"datadir-" + hex.EncodeToString(idBytes) + ":" + base64.StdEncoding.EncodeToString(key) + "\n")
	defer wipe(content)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".encryption.key-*")
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	_, werr := tmp.Write(content)
	serr := tmp.Sync()
	if err := errors.Join(werr, serr, tmp.Close()); err != nil {
		return nil, fmt.Errorf("write encryption key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("write encryption key: %w", err)
	}
	return readKeyFile(path)
}
