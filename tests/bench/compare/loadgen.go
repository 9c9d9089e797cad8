package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mariahq/maria/tests/sim/slackevents"
)

// signingSecret signs the load generator's requests; every receiver
// under test verifies it.
const signingSecret = "bench-compare-signing-secret"

// signedEvent is one Events API delivery, signed ahead of time so the
// load generator spends nothing on it while measuring.
type signedEvent struct {
	body []byte
	ts   string
	sig  string
}

// mentionEvents builds n distinct signed app_mention callbacks (distinct
// event ids, so none is dropped as a duplicate), spread over 64 channels.
func mentionEvents(n int) []signedEvent {
	c := &slackevents.Client{}
	now := time.Now().Unix()
	out := make([]signedEvent, n)
	for i := range out {
		ch := fmt.Sprintf("CBENCH%02d", i%64)
		ev := slackevents.AppMentionEvent(slackevents.DefaultTeam, ch, "U0BENCH",
			c.MentionText("What is the status of order S00042?"), slackevents.NewTS(), "")
		body, _ := c.Callback(ev)
		out[i] = signedEvent{body: body, ts: strconv.FormatInt(now, 10), sig: slackevents.Sign(signingSecret, now, body)}
	}
	return out
}

// postAll sends every event to url over conns keep-alive connections, each
// connection one request at a time (as Slack does), and returns events/s
// and the p99 latency. Any answer but 200 fails the trial: a receiver that
// drops events must not look fast.
func postAll(ctx context.Context, url string, events []signedEvent, conns int) (trial, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	return timedConcurrently(len(events), conns, func(i int) error { return post(ctx, client, url, events[i]) })
}

// timedConcurrently calls do(0…n-1), each index once, from workers
// goroutines, and returns calls/s and the p99 latency of one call; the
// first error stops the workers and fails the trial.
func timedConcurrently(n, workers int, do func(i int) error) (trial, error) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start, cpu0 := time.Now(), processCPU()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || failed.Load() != nil {
					return
				}
				t0 := time.Now()
				if err := do(i); err != nil {
					failed.CompareAndSwap(nil, err)
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, _ := failed.Load().(error); err != nil {
		return trial{}, err
	}
	return trial{rate: float64(n) / elapsed.Seconds(), p99: percentile(lat, 99), cpu: (processCPU() - cpu0) / time.Duration(n)}, nil
}

func post(ctx context.Context, client *http.Client, url string, ev signedEvent) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(ev.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Slack-Request-Timestamp", ev.ts)
	req.Header.Set("X-Slack-Signature", ev.sig)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %d %s", url, resp.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}
