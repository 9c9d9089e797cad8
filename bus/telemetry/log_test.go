package telemetry

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// JSON for collectors, console lines for people: auto decides by whether
// the writer is a terminal (a buffer or a file is not).
func TestLoggerFormats(t *testing.T) {
	for _, tt := range []struct {
		format   string
		wantJSON bool
	}{
		{FormatJSON, true},
		{FormatAuto, true}, // a bytes.Buffer is not a terminal
		{"", true},
		{FormatConsole, false},
	} {
		t.Run(tt.format, func(t *testing.T) {
			var buf bytes.Buffer
			log := NewLoggerFormat(&buf, "info", "svc", tt.format)
			log.Info().Str("component", "egress").Msg("hello there")
			line := strings.TrimSpace(buf.String())
			var fields map[string]any
			isJSON := json.Unmarshal([]byte(line), &fields) == nil
			if isJSON != tt.wantJSON {
				t.Fatalf("format %q: JSON=%v, want %v: %s", tt.format, isJSON, tt.wantJSON, line)
			}
			if !strings.Contains(line, "hello there") || !strings.Contains(line, "egress") {
				t.Fatalf("line lacks the message or a field: %s", line)
			}
			if !tt.wantJSON && (!strings.Contains(line, "INF") || !strings.Contains(line, "component=egress")) {
				t.Fatalf("console line is not human-readable: %s", line)
			}
		})
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) || IsTerminal(&bytes.Buffer{}) || IsTerminal(nil) {
		t.Fatal("a file, a buffer or nil is not a terminal")
	}
	if ConsoleFormat(f, FormatAuto) || !ConsoleFormat(f, FormatConsole) || ConsoleFormat(f, FormatJSON) {
		t.Fatal("ConsoleFormat does not follow the format")
	}
}

func TestDuplicateKeys(t *testing.T) {
	for line, want := range map[string]string{
		`{"a":1,"b":{"a":2}}`:               "",
		`{"component":"x","component":"y"}`: "component",
		`{"a":[1,{"a":1}],"a":null}`:        "a",
	} {
		got, err := DuplicateKeys(line)
		if err != nil || strings.Join(got, ",") != want {
			t.Errorf("%s: got %v %v, want %q", line, got, err, want)
		}
	}
	if _, err := DuplicateKeys("INF hello"); err == nil {
		t.Error("a console line is not JSON")
	}
}
