package demo

import (
	"io"
	"os"
)

// LogTo decides where the demo's services log: stderr when verbose, else a
// file of this run in the temporary directory (two demos at once do not
// share one), or nowhere if that cannot be created. It returns the writer,
// the name the banner shows, and a func that closes the file.
func LogTo(verbose bool, stderr io.Writer) (io.Writer, string, func()) {
	if verbose {
		return stderr, "stderr", func() {}
	}
	f, err := os.CreateTemp("", "maria-demo-*.log")
	if err != nil {
		return io.Discard, "", func() {}
	}
	return f, f.Name(), func() { _ = f.Close() }
}
