package schemas

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/invopop/jsonschema"
)

var update = flag.Bool("update", false, "rewrite jsonschema/*.json from the Go types")

const schemaBase = "https://github.com/mariahq/maria/schemas/jsonschema/"

// generateSchemas renders one JSON Schema per event type: the envelope with
// "type" fixed and "data" the payload's schema, so a processor in any
// language can validate a whole message with one file.
func generateSchemas(t *testing.T) map[string][]byte {
	t.Helper()
	r := &jsonschema.Reflector{ExpandedStruct: true, RequiredFromJSONSchemaTags: false, AllowAdditionalProperties: true}
	out := map[string][]byte{}
	env := toMap(t, r.Reflect(&Envelope{}))
	env["$id"] = schemaBase + "envelope.json"
	env["title"] = "Maria event envelope"
	out["envelope.json"] = render(t, env)
	types := PayloadTypes()
	names := make([]string, 0, len(types))
	for n := range types {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, typ := range names {
		payload := toMap(t, r.ReflectFromType(reflect.TypeOf(types[typ])))
		s := toMap(t, r.Reflect(&Envelope{}))
		s["$id"] = schemaBase + typ + ".json"
		s["title"] = typ
		props := s["properties"].(map[string]any)
		props["type"] = map[string]any{"const": typ}
		if defs, ok := payload["$defs"]; ok {
			s["$defs"] = defs
			delete(payload, "$defs")
		}
		delete(payload, "$schema")
		delete(payload, "$id")
		props["data"] = payload
		out[typ+".json"] = render(t, s)
	}
	// Not an envelope: the value a processor keeps in the claims bucket.
	claim := toMap(t, r.Reflect(&Claim{}))
	claim["$id"] = schemaBase + "claim.v1.json"
	claim["title"] = "claim.v1: a processor's claim rules, the value of a key in KV bucket " + ClaimsBucket
	out["claim.v1.json"] = render(t, claim)
	return out
}

func toMap(t *testing.T, s *jsonschema.Schema) map[string]any {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func render(t *testing.T, m map[string]any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestJSONSchemasMatchGoTypes fails when a Go type changed and the committed
// JSON Schemas were not regenerated (make schemas).
func TestJSONSchemasMatchGoTypes(t *testing.T) {
	want := generateSchemas(t)
	dir := "jsonschema"
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		old, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, f := range old {
			_ = os.Remove(f)
		}
		for name, b := range want {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	have := map[string]bool{}
	for _, f := range files {
		have[filepath.Base(f)] = true
	}
	for name, b := range want {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s missing: run `make schemas`", name)
			continue
		}
		if !bytes.Equal(got, b) {
			t.Errorf("%s is stale: run `make schemas`", name)
		}
		delete(have, name)
	}
	for name := range have {
		t.Errorf("%s has no Go type: run `make schemas`", name)
	}
}

// TestExampleMessagesValidateAgainstSchemas checks real encoded envelopes
// against the generated schemas' required fields and type constants, so the
// schemas describe what the Go code actually sends.
func TestExampleMessagesValidateAgainstSchemas(t *testing.T) {
	schemas := generateSchemas(t)
	for typ, payload := range PayloadTypes() {
		env, err := New("", typ, "test", payload)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := env.Marshal()
		var msg map[string]any
		if err := json.Unmarshal(b, &msg); err != nil {
			t.Fatal(err)
		}
		var s map[string]any
		if err := json.Unmarshal(schemas[typ+".json"], &s); err != nil {
			t.Fatal(err)
		}
		for _, req := range s["required"].([]any) {
			if _, ok := msg[req.(string)]; !ok {
				t.Errorf("%s: encoded envelope lacks required %q", typ, req)
			}
		}
		props := s["properties"].(map[string]any)
		if c := props["type"].(map[string]any)["const"]; c != msg["type"] {
			t.Errorf("%s: type const %v != %v", typ, c, msg["type"])
		}
		for k := range msg {
			if _, ok := props[k]; !ok && !strings.HasPrefix(k, "$") {
				t.Errorf("%s: field %q not described by the schema", typ, k)
			}
		}
	}
}
