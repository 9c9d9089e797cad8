package ai

import (
	"strings"
	"time"

	"github.com/mariahq/maria/bus/config"
)

// FileConfig is how files shared with a question reach the model (README
// "AI", files rows).
type FileConfig struct {
	// Vision sends images as image input [MARIA_AI_VISION]; VisionModels
	// are model names (or prefixes ending in "*") that read images even
	// when Vision is off [MARIA_AI_VISION_MODELS].
	Vision       bool
	VisionModels []string
	// TokenBudget bounds the file text of one turn, in approximate tokens
	// (≈ 4 characters each) [MARIA_AI_FILE_TOKEN_BUDGET].
	TokenBudget int
	// MaxBytes refuses bigger files with a message [MARIA_AI_MAX_FILE_BYTES].
	MaxBytes int64
	// MaxImageBytes refuses bigger images (base64 must fit one NATS
	// message) [MARIA_AI_MAX_IMAGE_BYTES].
	MaxImageBytes int64
	// Wait bounds how long a question waits for its files to be stored
	// [MARIA_AI_FILE_WAIT].
	Wait time.Duration
}

func loadFileConfig(env *config.Env) FileConfig {
	c := FileConfig{
		Vision:        env.Bool("MARIA_AI_VISION", false),
		TokenBudget:   env.Int("MARIA_AI_FILE_TOKEN_BUDGET", 8000, 100, 1_000_000),
		MaxBytes:      int64(env.Int("MARIA_AI_MAX_FILE_BYTES", 20<<20, 1, 1<<30)),
		MaxImageBytes: int64(env.Int("MARIA_AI_MAX_IMAGE_BYTES", 700<<10, 1, 64<<20)),
		Wait:          env.Duration("MARIA_AI_FILE_WAIT", 30*time.Second),
	}
	for _, m := range strings.Split(env.String("MARIA_AI_VISION_MODELS", ""), ",") {
		if m = strings.TrimSpace(m); m != "" {
			c.VisionModels = append(c.VisionModels, m)
		}
	}
	return c
}

// visionFor reports whether model reads image input.
func (c FileConfig) visionFor(model string) bool {
	if c.Vision {
		return true
	}
	for _, m := range c.VisionModels {
		if m == model || (strings.HasSuffix(m, "*") && strings.HasPrefix(model, strings.TrimSuffix(m, "*"))) {
			return true
		}
	}
	return false
}
