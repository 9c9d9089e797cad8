package demo

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Two demos at once write two log files: each run gets its own, named
// once in the banner; --verbose logs to stderr instead.
func TestLogToIsPerRun(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	w1, path1, close1 := LogTo(false, nil)
	defer close1()
	w2, path2, close2 := LogTo(false, nil)
	defer close2()
	if path1 == "" || path1 == path2 || w1 == w2 {
		t.Fatalf("two runs share a log: %q %q", path1, path2)
	}
	if filepath.Dir(path1) != os.Getenv("TMPDIR") {
		t.Fatalf("log %s is not in the temporary directory", path1)
	}
	var stderr bytes.Buffer
	if w, name, closeLog := LogTo(true, &stderr); w != &stderr || name != "stderr" {
		t.Fatalf("verbose logs to %v %q", w, name)
	} else {
		closeLog()
	}
}
