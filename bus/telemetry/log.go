package telemetry

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
)

// zerolog's time format is a package global: set it once, not per logger,
// so that several services built concurrently in one process do not race.
var timeFormatOnce sync.Once

// Log formats (MARIA_LOG_FORMAT).
const (
	// FormatAuto is console on a terminal, JSON otherwise.
	FormatAuto = "auto"
	// FormatJSON is one JSON object per line (log collectors).
	FormatJSON = "json"
	// FormatConsole is one human-readable, coloured line per event.
	FormatConsole = "console"
)

// NewLogger returns a JSON zerolog logger at level (trace|debug|info|warn|error).
func NewLogger(w io.Writer, level, service string) zerolog.Logger {
	return NewLoggerFormat(w, level, service, FormatJSON)
}

// NewLoggerFormat returns a logger at level writing format: json, console,
// or auto (console when w is a terminal: a person reads it; JSON when it
// is a file or a pipe: a collector parses it).
func NewLoggerFormat(w io.Writer, level, service, format string) zerolog.Logger {
	if w == nil {
		w = os.Stderr
	}
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	timeFormatOnce.Do(func() { zerolog.TimeFieldFormat = time.RFC3339Nano })
	if ConsoleFormat(w, format) {
		// Colours only for a terminal (a forced console format to a file stays plain).
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000", NoColor: os.Getenv("NO_COLOR") != "" || !IsTerminal(w)}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Str("service", service).Logger()
}

// ConsoleFormat reports whether format, written to w, means
// human-readable lines.
func ConsoleFormat(w io.Writer, format string) bool {
	switch format {
	case FormatConsole:
		return true
	case FormatAuto, "":
		return IsTerminal(w)
	}
	return false
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && f != nil && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
