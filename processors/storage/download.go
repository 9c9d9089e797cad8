package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/schemas"
	"github.com/slack-go/slack"
	"go.opentelemetry.io/otel/attribute"
)

// downloader fetches Slack files with the bot token of the file's
// workspace (tokens.go).
type downloader struct {
	client  *http.Client
	api     string
	token   string      // SLACK_BOT_TOKEN, single-workspace mode
	tokens  TokenSource // multi-workspace mode: each workspace's own
	hosts   []string
	max     int64
	timeout time.Duration
	tmpDir  string
}

// download is a file spooled to a temporary file while hashing it.
type download struct {
	File   *os.File
	Size   int64
	SHA256 string
	Head   []byte
}

// Close removes the temporary file.
func (d *download) Close() {
	if d == nil || d.File == nil {
		return
	}
	name := d.File.Name()
	_ = d.File.Close()
	_ = os.Remove(name)
}

func newDownloader(c Config) *downloader {
	d := &downloader{api: c.SlackAPIURL, token: c.BotToken, hosts: c.FileHosts, max: c.MaxFileBytes, timeout: c.DownloadTimeout, tmpDir: c.TempDir}
	d.client = &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
		},
		CheckRedirect: d.checkRedirect,
	}
	return d
}

// redirectRefused is a redirect the downloader will not follow. The bot
// token rides on every hop of a redirect chain Go follows, and what is
// stored must come from Slack: so a hop to a host outside the allow-list,
// or from https down to http, ends the download instead.
type redirectRefused struct {
	from, to *url.URL
	why      string
}

func (e *redirectRefused) Error() string {
	return fmt.Sprintf("redirect from %s://%s to %s://%s refused: %s", e.from.Scheme, e.from.Host, e.to.Scheme, e.to.Host, e.why)
}

// checkRedirect is the client's redirect policy: follow only to allowed
// hosts (see allowed), never downgrade https to http, at most 5 hops.
func (d *downloader) checkRedirect(req *http.Request, via []*http.Request) error {
	prev := via[len(via)-1].URL
	switch {
	case len(via) >= 5:
		return &redirectRefused{from: prev, to: req.URL, why: "too many redirects"}
	case prev.Scheme == "https" && req.URL.Scheme != "https":
		return &redirectRefused{from: prev, to: req.URL, why: "downgrade from https"}
	case !d.allowed(req.URL):
		return &redirectRefused{from: prev, to: req.URL, why: "host not in MARIA_STORAGE_FILE_HOSTS"}
	}
	return nil
}

// allowed reports whether the bot token may be sent to u: its host must be
// listed (exactly, or under a "*.domain" entry) and the scheme https, or
// http for a loopback host (the Slack simulator in tests).
func (d *downloader) allowed(u *url.URL) bool {
	host := strings.ToLower(u.Hostname())
	ok := false
	for _, h := range d.hosts {
		if h == strings.ToLower(u.Host) || h == host ||
			(strings.HasPrefix(h, "*.") && strings.HasSuffix(host, h[1:])) {
			ok = true
			break
		}
	}
	if !ok {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		if host == "localhost" {
			return true
		}
		ip := net.ParseIP(host)
		return ip != nil && ip.IsLoopback()
	}
	return false
}

// fetch downloads f into a temporary file. Errors are classified for the
// runtime: bus.Permanent for what a retry cannot fix (too large, refused
// access, gone), retryable for the rest.
func (d *downloader) fetch(ctx context.Context, team string, f schemas.SlackFile, progress func()) (*download, error) {
	if d.max > 0 && f.Size > d.max {
		return nil, bus.Permanent(refuse("file %s is %d bytes, over the %d-byte limit (MARIA_STORAGE_MAX_FILE_BYTES)", f.ID, f.Size, d.max))
	}
	if f.ID == "" && f.URLPrivateDownload == "" && f.URLPrivate == "" {
		return nil, bus.Permanent(refuse("file event without a file id"))
	}
	token, err := d.tokenFor(ctx, team, f.ID)
	if err != nil {
		return nil, err
	}
	if f.URLPrivateDownload == "" && f.URLPrivate == "" {
		// A file_shared event names the file only: ask Slack for the rest.
		info, err := d.fileInfo(ctx, token, f.ID)
		if err != nil {
			return nil, err
		}
		f = *info
		if d.max > 0 && f.Size > d.max {
			return nil, bus.Permanent(refuse("file %s is %d bytes, over the %d-byte limit (MARIA_STORAGE_MAX_FILE_BYTES)", f.ID, f.Size, d.max))
		}
	}
	raw := f.URLPrivateDownload
	if raw == "" {
		raw = f.URLPrivate
	}
	if raw == "" {
		return nil, bus.Permanent(refuse("file %s has no url_private to download", f.ID))
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, bus.Permanent(refuse("file %s: url_private is not an absolute URL", f.ID))
	}
	if !d.allowed(u) {
		return nil, bus.Permanent(refuse("file %s: refusing to send the bot token to %s://%s (not in MARIA_STORAGE_FILE_HOSTS)", f.ID, u.Scheme, u.Host))
	}
	ctx, span := telemetry.StartSpan(ctx, "slack files.download",
		attribute.String("maria.slack.file_id", f.ID),
		attribute.String("server.address", u.Hostname()),
		attribute.String("http.request.method", http.MethodGet))
	out, status, err := d.get(ctx, token, u, f, progress)
	if span.IsRecording() {
		if status > 0 {
			span.SetAttributes(attribute.Int("http.response.status_code", status))
		}
		if out != nil {
			span.SetAttributes(attribute.Int64("maria.storage.size", out.Size))
		}
		outcome := "ok"
		var rd *bus.RetryableError
		switch {
		case err == nil:
		case status == http.StatusTooManyRequests:
			outcome = "rate_limited"
			if errors.As(err, &rd) {
				span.SetAttributes(attribute.Float64("maria.slack.retry_after_seconds", rd.After.Seconds()))
			}
		case bus.IsPermanent(err):
			outcome = "refused"
		default:
			outcome = "error"
		}
		span.SetAttributes(attribute.String("maria.outcome", outcome))
		telemetry.EndSpan(span, err)
	}
	return out, err
}

// get downloads u with token; status is the HTTP status, if any.
func (d *downloader) get(ctx context.Context, token string, u *url.URL, f schemas.SlackFile, progress func()) (*download, int, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, bus.Permanent(fmt.Errorf("file %s: build request: %w", f.ID, err))
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := d.client.Do(req)
	if err != nil {
		// On a refused redirect Do returns the redirect response too, body
		// closed; on a network error resp is nil.
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		var rr *redirectRefused
		if errors.As(err, &rr) {
			return nil, status, bus.Permanent(refuse("file %s: %v", f.ID, rr))
		}
		// url.Error carries the URL (no token: that is in a header).
		return nil, status, bus.Retry(fmt.Errorf("file %s: download: %w", f.ID, err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusTooManyRequests:
		after := 30 * time.Second
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			after = time.Duration(s) * time.Second
		}
		return nil, resp.StatusCode, bus.RetryAfter(fmt.Errorf("file %s: download rate limited (HTTP 429)", f.ID), after)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, resp.StatusCode, bus.Permanent(refuse("file %s: Slack refused the download (HTTP %d): the bot token lacks access (files:read?)", f.ID, resp.StatusCode))
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, resp.StatusCode, bus.Permanent(refuse("file %s: no longer exists (HTTP %d)", f.ID, resp.StatusCode))
	case resp.StatusCode >= 500:
		return nil, resp.StatusCode, bus.Retry(fmt.Errorf("file %s: download failed (HTTP %d)", f.ID, resp.StatusCode))
	default:
		return nil, resp.StatusCode, bus.Permanent(refuse("file %s: unexpected HTTP %d from the file URL", f.ID, resp.StatusCode))
	}
	if d.max > 0 && resp.ContentLength > d.max {
		return nil, resp.StatusCode, bus.Permanent(refuse("file %s is %d bytes, over the %d-byte limit (MARIA_STORAGE_MAX_FILE_BYTES)", f.ID, resp.ContentLength, d.max))
	}

	tmp, err := os.CreateTemp(d.tmpDir, "maria-file-*")
	if err != nil {
		return nil, resp.StatusCode, bus.Retry(fmt.Errorf("file %s: temporary file: %w", f.ID, err))
	}
	out := &download{File: tmp}
	h := sha256.New()
	head := &headWriter{max: sniffLen}
	pw := &progressWriter{every: 5 * time.Second, fn: progress, last: time.Now()}
	body := io.Reader(resp.Body)
	if d.max > 0 {
		body = io.LimitReader(resp.Body, d.max+1)
	}
	n, err := io.Copy(io.MultiWriter(tmp, h, head, pw), body)
	if err != nil {
		out.Close()
		return nil, resp.StatusCode, bus.Retry(fmt.Errorf("file %s: download interrupted after %d bytes: %w", f.ID, n, err))
	}
	if d.max > 0 && n > d.max {
		out.Close()
		return nil, resp.StatusCode, bus.Permanent(refuse("file %s exceeds the %d-byte limit (MARIA_STORAGE_MAX_FILE_BYTES) while downloading (declared %d bytes)", f.ID, d.max, f.Size))
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		out.Close()
		return nil, resp.StatusCode, bus.Retry(fmt.Errorf("file %s: got %d of %d bytes", f.ID, n, resp.ContentLength))
	}
	out.Size, out.SHA256, out.Head = n, hex.EncodeToString(h.Sum(nil)), head.b
	return out, resp.StatusCode, nil
}

// headWriter keeps the first max bytes written.
type headWriter struct {
	b   []byte
	max int
}

func (w *headWriter) Write(p []byte) (int, error) {
	if room := w.max - len(w.b); room > 0 {
		w.b = append(w.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// progressWriter calls fn at most every `every` while bytes flow, so a long
// download keeps its JetStream delivery alive.
type progressWriter struct {
	every time.Duration
	fn    func()
	last  time.Time
}

func (w *progressWriter) Write(p []byte) (int, error) {
	if w.fn != nil && time.Since(w.last) >= w.every {
		w.last = time.Now()
		w.fn()
	}
	return len(p), nil
}

// fileInfo looks a file up with files.info (the workspace's bot token,
// SLACK_API_URL).
func (d *downloader) fileInfo(ctx context.Context, token, id string) (*schemas.SlackFile, error) {
	if id == "" {
		return nil, bus.Permanent(refuse("file event without a file id"))
	}
	api := d.api
	if !strings.HasSuffix(api, "/") {
		api += "/"
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c := slack.New(token, slack.OptionAPIURL(api), slack.OptionHTTPClient(d.client))
	ctx, span := telemetry.StartSpan(ctx, "slack files.info", attribute.String("rpc.system", "slack"),
		attribute.String("rpc.method", "files.info"), attribute.String("maria.slack.file_id", id))
	info, _, _, err := c.GetFileInfoContext(ctx, id, 0, 0)
	if err != nil {
		var se slack.SlackErrorResponse
		if errors.As(err, &se) { // Slack answered ok:false (file_not_found, invalid_auth, …)
			span.SetAttributes(attribute.String("maria.outcome", "slack_error"), attribute.String("maria.slack.error", se.Err))
			err = bus.Permanent(refuse("file %s: files.info: %v", id, err))
		} else {
			span.SetAttributes(attribute.String("maria.outcome", "error"))
			err = bus.Retry(fmt.Errorf("file %s: files.info: %w", id, err))
		}
		telemetry.EndSpan(span, err)
		return nil, err
	}
	span.SetAttributes(attribute.String("maria.outcome", "ok"))
	telemetry.EndSpan(span, nil)
	return &schemas.SlackFile{ID: info.ID, Name: info.Name, Title: info.Title, Mimetype: info.Mimetype, Filetype: info.Filetype,
		Size: int64(info.Size), URLPrivate: info.URLPrivate, URLPrivateDownload: info.URLPrivateDownload}, nil
}
