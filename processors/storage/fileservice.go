package storage

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/processors/storage/store"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"go.opentelemetry.io/otel/attribute"
)

// FilesService is the nats micro service name answering maria.files.read.
const FilesService = "maria-files"

// ReadFile answers one FileRead from the records and objects: the
// extracted text (cut at MaxChars) or, when asked, an image's bytes. Only
// the copy stored for the asking workspace (q.Team) is read.
func (s *Service) ReadFile(ctx context.Context, q schemas.FileRead) (schemas.FileContent, error) {
	if q.FileID == "" {
		return schemas.FileContent{}, errBadQuery("file_id is required")
	}
	rec, found, err := s.records.GetFile(ctx, q.Team, q.FileID)
	if err != nil || !found {
		return schemas.FileContent{}, err
	}
	out := schemas.FileContent{Found: true, Name: rec.Name, ContentType: rec.ContentType, Size: rec.Size, Kind: rec.ReadKind,
		Error: rec.ReadError, Chars: rec.TextChars, Truncated: rec.TextTruncated, Note: rec.TextNote}
	switch rec.ReadKind {
	case schemas.FileKindText:
		body, _, err := s.blobs.Get(ctx, s.cfg.DocsBucket, rec.TextKey)
		if err != nil {
			return out, fmt.Errorf("extracted text of %s: %w", q.FileID, err)
		}
		defer body.Close()
		limit := int64(rec.TextChars)*4 + 4
		if q.MaxChars > 0 {
			limit = int64(q.MaxChars)*4 + 4
		}
		raw, err := io.ReadAll(io.LimitReader(body, limit))
		if err != nil {
			return out, fmt.Errorf("extracted text of %s: %w", q.FileID, err)
		}
		text, cut := capText(strings.ToValidUTF8(string(raw), ""), q.MaxChars)
		out.Text, out.Truncated = text, out.Truncated || cut
		if cut {
			out.Note = fmt.Sprintf("only the first %d of %d characters were kept", utf8.RuneCountInString(text), rec.TextChars)
		}
	case schemas.FileKindImage:
		if !q.Image {
			return out, nil
		}
		if q.MaxImageBytes > 0 && rec.Size > q.MaxImageBytes {
			out.Kind, out.Error = schemas.FileKindTooBig,
				fmt.Sprintf("the image is %d KB, over the %d KB I can pass to the model", rec.Size>>10, q.MaxImageBytes>>10)
			return out, nil
		}
		body, _, err := s.blobs.Get(ctx, rec.Bucket, rec.Key)
		if err != nil {
			return out, fmt.Errorf("image %s: %w", q.FileID, err)
		}
		defer body.Close()
		raw, err := io.ReadAll(io.LimitReader(body, rec.Size+1))
		if err != nil {
			return out, fmt.Errorf("image %s: %w", q.FileID, err)
		}
		out.ImageBase64 = base64.StdEncoding.EncodeToString(raw)
	case "":
		// Stored before extraction existed: its text was never extracted.
		out.Kind, out.Error = schemas.FileKindUnreadable, "it was stored before I could read files; please share it again"
	}
	return out, nil
}

// capText cuts s at max runes (0: no cap).
func capText(s string, max int) (string, bool) {
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s, false
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i], true
		}
		n++
	}
	return s, false
}

// serveFiles registers the maria-files micro service on nc (queue group:
// one replica answers each request).
func (s *Service) serveFiles(ctx context.Context, nc *nats.Conn) (micro.Service, error) {
	handler := func(req micro.Request) {
		var reply schemas.FileContent
		var q schemas.FileRead
		outcome := "ok"
		if err := json.Unmarshal(req.Data(), &q); err != nil {
			reply.Error, outcome = "bad request: "+err.Error(), "bad_request"
		} else {
			sctx, span := telemetry.StartServerSpan(telemetry.RequestContext(ctx, nats.Header(req.Headers())), "storage serve file read",
				attribute.String("rpc.system", "nats"), attribute.String("messaging.destination.name", schemas.SubjectFileRead), fileAttr(q.FileID))
			qctx, cancel := context.WithTimeout(sctx, 20*time.Second)
			var err error
			reply, err = s.ReadFile(qctx, q)
			cancel()
			telemetry.EndSpan(span, err)
			var bq badQuery
			switch {
			case errors.As(err, &bq):
				reply, outcome = schemas.FileContent{Error: "bad request: " + err.Error()}, "bad_request"
			case errors.Is(err, store.ErrNotFound):
				reply, outcome = schemas.FileContent{Found: true, Kind: schemas.FileKindUnreadable, Name: reply.Name,
					Error: "its stored copy has expired (retention)"}, "expired"
			case err != nil:
				s.log.Warn().Err(err).Str("file_id", q.FileID).Msg("file read failed")
				reply, outcome = schemas.FileContent{Error: "file store unavailable: " + err.Error()}, "error"
			case !reply.Found:
				outcome = "not_found"
			}
		}
		metricFileReads.WithLabelValues(outcome).Inc()
		if err := req.RespondJSON(reply); err != nil {
			s.log.Warn().Err(err).Msg("file read reply failed")
		}
	}
	return micro.AddService(nc, micro.Config{
		Name:        FilesService,
		Version:     "1.0.0",
		Description: "Maria stored files for readers: " + schemas.SubjectFileRead + " {team, file_id, max_chars, image, max_image_bytes} -> {found, kind, text, image_base64, error}",
		Endpoint:    &micro.EndpointConfig{Subject: schemas.SubjectFileRead, Handler: micro.HandlerFunc(handler)},
	})
}

var metricFileReads = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "maria_storage_file_reads_total",
	Help: "maria.files.read requests by outcome (ok, not_found, expired, bad_request, error).",
}, []string{"outcome"})
