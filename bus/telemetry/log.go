package telemetry

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// zerolog's time format is a package global: set it once, not per logger,
// so that several services built concurrently in one process do not race.
var timeFormatOnce sync.Once

// NewLogger returns a JSON zerolog logger at level (trace|debug|info|warn|error).
func NewLogger(w io.Writer, level, service string) zerolog.Logger {
	if w == nil {
		w = os.Stderr
	}
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	timeFormatOnce.Do(func() { zerolog.TimeFieldFormat = time.RFC3339Nano })
	return zerolog.New(w).Level(lvl).With().Timestamp().Str("service", service).Logger()
}
