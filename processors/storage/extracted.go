package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/processors/storage/extract"
	"github.com/mariahq/maria/processors/storage/store"
	"github.com/mariahq/maria/schemas"
	"go.opentelemetry.io/otel/attribute"
)

// Text is extracted from a document once, when it is stored, and kept as a
// text object next to it (<key>.txt in the docs bucket): every question
// about the file then reads that text, and a file shared again in the
// same thread (same object) reuses it. What cannot be read is recorded
// with the reason, so a reader can tell the user at once.

// textKeySuffix names the extracted text object of an object key.
const textKeySuffix = ".txt"

func loadExtractLimits(env *config.Env) extract.Limits {
	l := extract.DefaultLimits
	l.MaxInputBytes = int64(env.Int("MARIA_STORAGE_EXTRACT_MAX_BYTES", int(l.MaxInputBytes), 1, 1<<30))
	l.MaxChars = env.Int("MARIA_STORAGE_EXTRACT_MAX_CHARS", l.MaxChars, 1000, 10_000_000)
	return l
}

// extractText fills rec's reading fields from the downloaded file and
// stores the extracted text. Only a failure to store the text is an error
// (retried); a file that cannot be read is recorded as such.
func (s *Service) extractText(ctx context.Context, dl *download, rec *store.FileRecord) error {
	lim := s.cfg.Extract
	if lim.MaxChars == 0 {
		lim = extract.DefaultLimits
	}
	res, err := extract.Text(dl.File, dl.Size, rec.ContentType, rec.Name, lim)
	switch {
	case errors.Is(err, extract.ErrUnsupported):
		rec.ReadKind, rec.ReadError = schemas.FileKindUnsupported, "I can't read this kind of file ("+kindName(rec.ContentType)+"); I can read "+extract.Readable
		return nil
	case errors.Is(err, extract.ErrTooBig):
		rec.ReadKind, rec.ReadError = schemas.FileKindTooBig, strings.TrimPrefix(err.Error(), extract.ErrTooBig.Error()+": ")
		rec.ReadError = "it is too big for me to read (" + rec.ReadError + ")"
		return nil
	case err != nil:
		rec.ReadKind, rec.ReadError = schemas.FileKindUnreadable, "I couldn't read it: "+strings.TrimPrefix(err.Error(), extract.ErrUnreadable.Error()+": ")
		return nil
	case res.Kind == extract.KindImage:
		rec.ReadKind = schemas.FileKindImage
		return nil
	}
	body := []byte(res.Text)
	sum := sha256.Sum256(body)
	key := rec.Key + textKeySuffix
	octx, done := timed(ctx, s.blobs.Backend(), "put_text", attribute.String("maria.storage.bucket", s.cfg.DocsBucket), fileAttr(rec.FileID),
		attribute.Int("maria.storage.text_chars", utf8.RuneCount(body)))
	err = s.blobs.Put(octx, store.PutObject{Bucket: s.cfg.DocsBucket, Key: key, ContentType: "text/plain; charset=utf-8",
		Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), Body: strings.NewReader(res.Text),
		Metadata: map[string]string{store.MetaFileID: rec.FileID, store.MetaSHA256: hex.EncodeToString(sum[:])}})
	done(err)
	if err != nil {
		return err
	}
	rec.ReadKind, rec.TextKey, rec.TextChars = schemas.FileKindText, key, utf8.RuneCount(body)
	rec.TextTruncated, rec.TextNote = res.Truncated, res.Note
	return nil
}

func kindName(contentType string) string {
	if t := mediaType(contentType); t != "" {
		return t
	}
	return "unknown type"
}
