package security

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/ingress"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/slacksim"
)

const (
	floodClients = 300
	floodBody    = 1_000_000 // under the default MARIA_INGRESS_MAX_BODY (1 MiB)
	// floodBound is the generous bound on heap growth while the flood is
	// held: without the gate, 300 bodies of 1 MB are 300 MB.
	floodBound = 100 << 20
)

// TestIngressFloodKeepsMemoryBounded: 300 clients each send a ~1 MB body
// with well-formed but forged signature headers and a fresh timestamp (so
// the headers alone cannot refuse them) and hold it open, one byte short,
// until every one of them is either answered or has had its body read by
// the server as far as it was sent. At that moment the heap holds
// everything ingress buffered; it must stay within the bound with the
// default limits, and a signed event must get through after the flood.
// The uncapped control shows the measurement catches the unbounded case.
func TestIngressFloodKeepsMemoryBounded(t *testing.T) {
	t.Run("default limits", func(t *testing.T) {
		growth, overloaded, forged := flood(t, ingress.Config{})
		t.Logf("heap growth %d MB with the flood held; %d answered 503, %d read and refused 401", growth>>20, overloaded, forged)
		if growth > floodBound {
			t.Fatalf("heap grew by %d MB with %d unsigned 1 MB bodies in flight, bound %d MB", growth>>20, floodClients, floodBound>>20)
		}
		if overloaded == 0 {
			t.Fatal("no request was refused 503: the gate did not act")
		}
	})
	t.Run("uncapped control", func(t *testing.T) {
		if testing.Short() {
			t.Skip("allocates 300 MB")
		}
		growth, _, _ := flood(t, ingress.Config{MaxInflightBodies: 100_000, MaxBufferedBytes: 1 << 40})
		t.Logf("heap growth %d MB without limits", growth>>20)
		if growth <= floodBound {
			t.Fatalf("without limits the heap grew only %d MB: the flood does not measure what it should", growth>>20)
		}
	})
}

// flood runs the held flood against an ingress with cfg's body limits and
// returns the heap growth at the held point, and how many requests were
// answered 503 and 401.
func flood(t *testing.T, cfg ingress.Config) (growth uint64, overloaded, forged int) {
	u := startIngress(t, cfg)
	// Wrap the ingress mux to know how far the server read each body.
	var progress [floodClients]atomic.Int64
	mux := http.NewServeMux()
	u.in.Routes(mux)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if i, err := strconv.Atoi(r.Header.Get("X-Flood-Client")); err == nil && i >= 0 && i < floodClients {
			r.Body = &readProgress{ReadCloser: r.Body, n: &progress[i]}
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	body := bytes.Repeat([]byte{' '}, floodBody) // shared by every client: the client side costs no heap
	release := make(chan struct{})
	var answered [floodClients]atomic.Bool
	statuses := make(chan int, floodClients)
	tr := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: floodClients, DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, Timeout: 60 * time.Second}

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	var wg sync.WaitGroup
	for i := range floodClients {
		wg.Go(func() {
			defer answered[i].Store(true)
			// All but the last byte, then the last byte once released.
			r := io.MultiReader(bytes.NewReader(body[:floodBody-1]), &gated{release: release, rest: body[floodBody-1:]})
			req, err := http.NewRequest(http.MethodPost, srv.URL+schemas.SlackPathEvents, r)
			if err != nil {
				t.Error(err)
				return
			}
			req.ContentLength = floodBody
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Flood-Client", strconv.Itoa(i))
			req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
			req.Header.Set("X-Slack-Signature", "v0="+strings.Repeat("0", 64))
			resp, err := hc.Do(req)
			if err != nil {
				statuses <- 0 // the server closed a refused connection while the body was being sent
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	held := func() bool {
		for i := range floodClients {
			if !answered[i].Load() && progress[i].Load() < floodBody-1 {
				return false
			}
		}
		return true
	}
	bustest.Eventually(t, 60*time.Second, held, "every flood request answered or read up to its last byte")
	runtime.GC()
	var during runtime.MemStats
	runtime.ReadMemStats(&during)
	close(release)
	wg.Wait()
	close(statuses)
	for st := range statuses {
		switch st {
		case http.StatusServiceUnavailable, 0:
			overloaded++
		case http.StatusUnauthorized:
			forged++
		default:
			t.Errorf("flood request answered %d", st)
		}
	}
	if during.HeapAlloc > before.HeapAlloc {
		growth = during.HeapAlloc - before.HeapAlloc
	}

	// Slack's own deliveries get through once the flood is over.
	d, err := u.client(slacksim.TeamID, "", "").Mention(context.Background(), "C0SALES", "U0ALICE", "still there?", "")
	if err != nil || d.Status != http.StatusOK {
		t.Fatalf("signed event after the flood: %d %q %v", d.Status, d.Body, err)
	}
	u.stored(t, d.ID)
	if n := bustest.StreamMsgs(t, u.bus, schemas.StreamIn); n != 1 {
		t.Fatalf("MARIA_IN holds %d messages, want only the signed one", n)
	}
	return growth, overloaded, forged
}

// readProgress counts the bytes the server read of one body.
type readProgress struct {
	io.ReadCloser
	n *atomic.Int64
}

func (r *readProgress) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.n.Add(int64(n))
	return n, err
}

// gated yields rest once release is closed.
type gated struct {
	release chan struct{}
	rest    []byte
}

func (g *gated) Read(p []byte) (int, error) {
	<-g.release
	if len(g.rest) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.rest)
	g.rest = g.rest[n:]
	return n, nil
}
