package bus

import (
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"
)

// NewLogger returns a JSON zerolog logger at level (trace|debug|info|warn|error).
func NewLogger(w io.Writer, level, service string) zerolog.Logger {
	if w == nil {
		w = os.Stderr
	}
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	return zerolog.New(w).Level(lvl).With().Timestamp().Str("service", service).Logger()
}
