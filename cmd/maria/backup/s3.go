package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Location is s3://bucket/key; a key ending in "/" (or empty) is a
// prefix under which Upload names the archive by its time.
type S3Location struct {
	Bucket, Key string
}

// ParseS3URL parses s3://bucket[/key].
func ParseS3URL(raw string) (S3Location, error) {
	rest, ok := strings.CutPrefix(raw, "s3://")
	if !ok {
		return S3Location{}, fmt.Errorf("%q is not an s3:// URL", raw)
	}
	bucket, key, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return S3Location{}, fmt.Errorf("%q names no bucket", raw)
	}
	return S3Location{Bucket: bucket, Key: key}, nil
}

func (l S3Location) String() string { return "s3://" + l.Bucket + "/" + l.Key }

// objectKey is where an upload made at t goes.
func (l S3Location) objectKey(t time.Time) string {
	if l.Key == "" || strings.HasSuffix(l.Key, "/") {
		return l.Key + "maria-backup-" + t.UTC().Format("20060102T150405Z") + ".tar.gz"
	}
	return l.Key
}

// Upload packs the backup in dir and puts it at loc; it returns where.
// The archive is staged in a temporary file so the SDK can sign and retry
// a seekable body.
func Upload(ctx context.Context, client *s3.Client, dir string, loc S3Location) (S3Location, error) {
	f, err := os.CreateTemp("", "maria-backup-*.tar.gz")
	if err != nil {
		return S3Location{}, fmt.Errorf("upload: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := Pack(dir, f); err != nil {
		return S3Location{}, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return S3Location{}, fmt.Errorf("upload: %w", err)
	}
	dst := S3Location{Bucket: loc.Bucket, Key: loc.objectKey(time.Now())}
	_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(dst.Bucket), Key: aws.String(dst.Key),
		Body: f, ContentType: aws.String("application/gzip")})
	if err != nil {
		return S3Location{}, fmt.Errorf("upload %s: %w", dst, err)
	}
	return dst, nil
}

// Download gets the archive at loc and unpacks it into dir.
func Download(ctx context.Context, client *s3.Client, loc S3Location, dir string) error {
	if loc.Key == "" || strings.HasSuffix(loc.Key, "/") {
		return errors.New("download: name the archive's key, not a prefix")
	}
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(path.Clean(loc.Key))})
	if err != nil {
		return fmt.Errorf("download %s: %w", loc, err)
	}
	defer out.Body.Close()
	return Unpack(out.Body, dir)
}
