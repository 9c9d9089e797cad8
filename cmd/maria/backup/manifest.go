package backup

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ManifestFile names the backup's table of contents. It is written last:
// a directory without it is an unfinished backup and restore refuses it.
const ManifestFile = "manifest.json"

// manifestFormat changes when a backup can no longer be read the old way.
const manifestFormat = 1

// Kinds of stream, as the operator thinks of them.
const (
	KindStream = "stream"
	KindKV     = "kv"
	KindObject = "object"
)

// Manifest lists what a backup holds.
type Manifest struct {
	Format  int       `json:"format"`
	Created time.Time `json:"created"`
	// Server is the version of the nats-server the snapshots came from.
	Server  string  `json:"server"`
	Streams []Entry `json:"streams"`
}

// Entry is one stream's snapshot: <backup dir>/<Name>/.
type Entry struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Messages  uint64 `json:"messages"`
	Bytes     uint64 `json:"bytes"`
	Consumers int    `json:"consumers"`
}

// KindOf classifies a stream by the prefixes nats.go gives KV buckets and
// object stores.
func KindOf(stream string) string {
	switch {
	case strings.HasPrefix(stream, "KV_"):
		return KindKV
	case strings.HasPrefix(stream, "OBJ_"):
		return KindObject
	}
	return KindStream
}

func writeManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	return nil
}

// ReadManifest loads and checks a backup directory's manifest: a known
// format and a snapshot directory for every stream it lists.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s has no %s: not a backup, or one that did not finish", dir, ManifestFile)
	}
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", filepath.Join(dir, ManifestFile), err)
	}
	if m.Format != manifestFormat {
		return nil, fmt.Errorf("manifest %s: format %d, this maria reads format %d", filepath.Join(dir, ManifestFile), m.Format, manifestFormat)
	}
	var missing []string
	for _, e := range m.Streams {
		if !validName(e.Name) {
			return nil, fmt.Errorf("manifest %s: stream name %q", filepath.Join(dir, ManifestFile), e.Name)
		}
		if fi, err := os.Stat(filepath.Join(dir, e.Name)); err != nil || !fi.IsDir() {
			missing = append(missing, e.Name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("backup %s lists streams with no snapshot directory: %s", dir, strings.Join(missing, ", "))
	}
	return &m, nil
}

// validName: a JetStream stream name that is also one safe path element,
// so a crafted manifest cannot point restore outside the backup.
func validName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\\ \t\n.*>")
}
