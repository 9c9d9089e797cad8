package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// fakeBackup writes a directory that ReadManifest accepts.
func fakeBackup(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "MARIA_IN"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "MARIA_IN", "backup.json"), []byte(`{"config":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeManifest(dir, &Manifest{Format: manifestFormat, Streams: []Entry{{Name: "MARIA_IN", Kind: KindStream}}}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPackUnpack(t *testing.T) {
	src := fakeBackup(t)
	var buf bytes.Buffer
	if err := Pack(src, &buf); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "restored")
	if err := Unpack(bytes.NewReader(buf.Bytes()), dst); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dst, "MARIA_IN", "backup.json"))
	if err != nil || string(got) != `{"config":{}}` {
		t.Fatalf("unpacked: %q %v", got, err)
	}
	if err := Unpack(bytes.NewReader(buf.Bytes()), dst); err == nil {
		t.Fatal("unpack into a non-empty directory was accepted")
	}
}

func TestUnpackRefusesEscapes(t *testing.T) {
	for name, hdr := range map[string]tar.Header{
		"parent":   {Name: "../evil", Typeflag: tar.TypeReg, Size: 1, Mode: 0o600},
		"absolute": {Name: "/tmp/evil", Typeflag: tar.TypeReg, Size: 1, Mode: 0o600},
		"symlink":  {Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"},
	} {
		var buf bytes.Buffer
		gz := gzip.NewWriter(&buf)
		tw := tar.NewWriter(gz)
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Size > 0 {
			_, _ = tw.Write([]byte("x"))
		}
		_ = tw.Close()
		_ = gz.Close()
		if err := Unpack(&buf, t.TempDir()); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseS3URL(t *testing.T) {
	for raw, want := range map[string]S3Location{
		"s3://b":            {Bucket: "b"},
		"s3://b/":           {Bucket: "b"},
		"s3://b/daily/":     {Bucket: "b", Key: "daily/"},
		"s3://b/x/y.tar.gz": {Bucket: "b", Key: "x/y.tar.gz"},
	} {
		got, err := ParseS3URL(raw)
		if err != nil || got != want {
			t.Errorf("ParseS3URL(%s) = %+v, %v; want %+v", raw, got, err, want)
		}
	}
	for _, bad := range []string{"", "b/k", "s3:///k", "https://b/k"} {
		if _, err := ParseS3URL(bad); err == nil {
			t.Errorf("ParseS3URL(%q) accepted", bad)
		}
	}
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	if k := (S3Location{Bucket: "b", Key: "daily/"}).objectKey(at); k != "daily/maria-backup-20250102T030405Z.tar.gz" {
		t.Errorf("prefix key %s", k)
	}
}

// objectServer is the part of S3 Upload and Download use: path-style PUT
// and GET of whole objects.
type objectServer struct {
	mu      sync.Mutex
	objects map[string][]byte
}

func (s *objectServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.Method {
	case http.MethodPut:
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.objects[r.URL.Path] = b
	case http.MethodGet:
		b, ok := s.objects[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `<Error><Code>NoSuchKey</Code></Error>`)
			return
		}
		_, _ = w.Write(b)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func TestUploadDownload(t *testing.T) {
	srv := &objectServer{objects: map[string][]byte{}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	client := s3.New(s3.Options{Region: "eu-west-1", BaseEndpoint: aws.String(hs.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
	ctx := context.Background()
	loc, err := Upload(ctx, client, fakeBackup(t), S3Location{Bucket: "backups", Key: "daily/"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc.Key, "daily/maria-backup-") || len(srv.objects) != 1 {
		t.Fatalf("uploaded to %s; server holds %d objects", loc, len(srv.objects))
	}
	dst := filepath.Join(t.TempDir(), "back")
	if err := Download(ctx, client, loc, dst); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadManifest(dst); err != nil {
		t.Fatal(err)
	}
	if err := Download(ctx, client, S3Location{Bucket: "backups", Key: "daily/"}, dst); err == nil {
		t.Fatal("download of a prefix accepted")
	}
}
