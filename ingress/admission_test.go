package ingress

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestPrecheckSignature(t *testing.T) {
	now := time.Now()
	sig := "v0=" + strings.Repeat("ab", 32)
	ts := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	cases := []struct {
		name    string
		sig, ts string
		want    error
	}{
		{"fresh", sig, ts(0), nil},
		{"4 minutes old", sig, ts(-4 * time.Minute), nil},
		{"no signature", "", ts(0), errNoSignature},
		{"no timestamp", sig, "", errNoSignature},
		{"v1 signature", "v1=" + strings.Repeat("ab", 32), ts(0), errBadSignatureHd},
		{"short signature", "v0=abc", ts(0), errBadSignatureHd},
		{"non-hex signature", "v0=" + strings.Repeat("zz", 32), ts(0), errBadSignatureHd},
		{"stale", sig, ts(-6 * time.Minute), errStaleTimestamp},
		{"future", sig, ts(6 * time.Minute), errStaleTimestamp},
		{"not a number", sig, "yesterday", errStaleTimestamp},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			if c.sig != "" {
				h.Set("X-Slack-Signature", c.sig)
			}
			if c.ts != "" {
				h.Set("X-Slack-Request-Timestamp", c.ts)
			}
			if err := precheckSignature(h, now); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestBodyGate(t *testing.T) {
	g := newBodyGate(2, 100)
	r1, lim := g.admit(60)
	if lim != "" {
		t.Fatal(lim)
	}
	if _, lim := g.admit(50); lim != LimitBytes {
		t.Fatalf("60+50 bytes of 100: limit %q, want bytes", lim)
	}
	r2, lim := g.admit(40)
	if lim != "" {
		t.Fatal(lim)
	}
	if _, lim := g.admit(0); lim != LimitBodies {
		t.Fatalf("third body of 2: limit %q, want bodies", lim)
	}
	r1()
	r1() // idempotent: releasing twice must not free room twice
	if g.inflight != 1 || g.buffered != 40 {
		t.Fatalf("after release: %d bodies, %d bytes", g.inflight, g.buffered)
	}
	r2()
	if g.inflight != 0 || g.buffered != 0 {
		t.Fatalf("after all releases: %d bodies, %d bytes", g.inflight, g.buffered)
	}
}

// countingBody counts the bytes the handler reads of a request body.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestHTTPOverloadRefusesBeforeReading holds one unverified body open (the
// client has sent half of it) and checks that, with room for one body,
// the next request is answered 503 + Retry-After without a byte of its
// body read, and that the room comes back once the first one is done.
func TestHTTPOverloadRefusesBeforeReading(t *testing.T) {
	for _, c := range []struct {
		name  string
		cfg   func(*Config)
		limit string
	}{
		{"bodies", func(c *Config) { c.MaxInflightBodies = 1 }, LimitBodies},
		{"bytes", func(c *Config) { c.MaxBufferedBytes = c.MaxBody }, LimitBytes},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig()
			c.cfg(&cfg)
			b := bustest.New(t)
			in := New(cfg, b, bustest.Logger(t), nil)
			mux := http.NewServeMux()
			in.Routes(mux)
			var read atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.Body = countingBody{r.Body, &read}
				mux.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)

			// The first request announces 40 KiB and sends 1 KiB, then stalls.
			pr, pw := io.Pipe()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+schemas.SlackPathEvents, pr)
			req.ContentLength = 40 << 10
			req.Header.Set("Content-Type", ctJSON)
			req.Header.Set("X-Slack-Signature", "v0="+strings.Repeat("0", 64))
			req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
			first := make(chan int, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					first <- 0
					return
				}
				resp.Body.Close()
				first <- resp.StatusCode
			}()
			if _, err := pw.Write(bytes.Repeat([]byte(" "), 1<<10)); err != nil {
				t.Fatal(err)
			}
			bustest.Eventually(t, 5*time.Second, func() bool { return read.Load() >= 1<<10 }, "first body being read")

			before := testutil.ToFloat64(metricOverloaded.WithLabelValues(c.limit))
			readBefore := read.Load()
			body := bytes.Repeat([]byte(" "), 40<<10)
			resp, err := http.DefaultClient.Do(forgedRequest(t, srv.URL+schemas.SlackPathEvents, body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("second request: %d Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
			}
			if got := read.Load() - readBefore; got != 0 {
				t.Fatalf("%d bytes of the refused body were read", got)
			}
			if testutil.ToFloat64(metricOverloaded.WithLabelValues(c.limit))-before != 1 {
				t.Errorf("overload (%s) not counted", c.limit)
			}

			// The stalled client finishes: its forged body is refused, its room freed.
			if _, err := pw.Write(bytes.Repeat([]byte(" "), 39<<10)); err != nil {
				t.Fatal(err)
			}
			pw.Close()
			if st := <-first; st != http.StatusUnauthorized {
				t.Fatalf("forged body: %d, want 401", st)
			}
			status, answer := do(t, srv.URL, post{path: schemas.SlackPathEvents, contentType: ctJSON, body: readTestdata(t, "app_mention.json")})
			if status != http.StatusOK {
				t.Fatalf("signed event after the stall: %d %s", status, answer)
			}
			bustest.Eventually(t, 5*time.Second, func() bool {
				in.gate.mu.Lock()
				defer in.gate.mu.Unlock()
				return in.gate.inflight == 0 && in.gate.buffered == 0
			}, "gate empty once every request is answered")
			if n := bustest.StreamMsgs(t, b, schemas.StreamIn); n != 1 {
				t.Fatalf("MARIA_IN holds %d, want the one signed event", n)
			}
		})
	}
}

func TestHTTPDeclaredOversizeIsNotRead(t *testing.T) {
	cfg := testConfig()
	in := New(cfg, bustest.New(t), bustest.Logger(t), nil)
	mux := http.NewServeMux()
	in.Routes(mux)
	var read atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = countingBody{r.Body, &read}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	resp, err := http.DefaultClient.Do(forgedRequest(t, srv.URL+schemas.SlackPathEvents, bytes.Repeat([]byte(" "), int(cfg.MaxBody)+1)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || read.Load() != 0 {
		t.Fatalf("status %d after reading %d bytes, want 413 and nothing read", resp.StatusCode, read.Load())
	}
}

// forgedRequest carries well-formed signature headers that do not match body.
func forgedRequest(t *testing.T, url string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctJSON)
	req.Header.Set("X-Slack-Signature", "v0="+strings.Repeat("0", 64))
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	return req
}
