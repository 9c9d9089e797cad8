package kmswrap_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/mariahq/maria/bus/sealed"
	"github.com/mariahq/maria/processors/kmswrap"
)

// kmsServer speaks KMS's JSON protocol (TrentService.Encrypt/Decrypt) with
// one AES key per key id, checking the encryption context like KMS does,
// so the test goes through the real SDK client, signing and serialization.
type kmsServer struct {
	keys  map[string]cipher.AEAD
	calls int
}

func (s *kmsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.calls++
	var in struct {
		KeyId             string
		Plaintext         []byte
		CiphertextBlob    []byte
		EncryptionContext map[string]string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
		http.Error(w, "unsigned", http.StatusForbidden)
		return
	}
	aead, ok := s.keys[in.KeyId]
	ctxAAD, _ := json.Marshal(in.EncryptionContext)
	fail := func(kind string) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": kind, "message": kind})
	}
	if !ok {
		fail("NotFoundException")
		return
	}
	var out map[string]any
	switch r.Header.Get("X-Amz-Target") {
	case "TrentService.Encrypt":
		nonce := make([]byte, aead.NonceSize())
		_, _ = rand.Read(nonce)
		out = map[string]any{"KeyId": in.KeyId, "CiphertextBlob": aead.Seal(nonce, nonce, in.Plaintext, ctxAAD)}
	case "TrentService.Decrypt":
		n := aead.NonceSize()
		if len(in.CiphertextBlob) < n {
			fail("InvalidCiphertextException")
			return
		}
		plain, err := aead.Open(nil, in.CiphertextBlob[:n], in.CiphertextBlob[n:], ctxAAD)
		if err != nil {
			fail("InvalidCiphertextException")
			return
		}
		out = map[string]any{"KeyId": in.KeyId, "Plaintext": plain}
	default:
		http.Error(w, "unknown target", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func newKMS(t *testing.T, ids ...string) (*kmsServer, *kms.Client) {
	t.Helper()
	s := &kmsServer{keys: map[string]cipher.AEAD{}}
	for _, id := range ids {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		block, _ := aes.NewCipher(key)
		s.keys[id], _ = cipher.NewGCM(block)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	client := kms.New(kms.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	})
	return s, client
}

func TestKMSWrapper(t *testing.T) {
	ctx := context.Background()
	srv, client := newKMS(t, "alias/maria", "alias/other")
	w := kmswrap.WithClient(client, "alias/maria")
	if w.ID() != "kms:alias/maria" {
		t.Fatalf("ID %q", w.ID())
	}
	ring, err := sealed.NewKeyring(w)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ring.Seal(ctx, []byte("xoxe-refresh"), []byte("T1"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ring.Open(ctx, rec, []byte("T1"))
	if err != nil || string(got) != "xoxe-refresh" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if srv.calls != 2 {
		t.Fatalf("%d KMS calls, want one Encrypt and one Decrypt", srv.calls)
	}
	// A wrapper of another KMS key under the same name cannot unwrap.
	other, _ := sealed.NewKeyring(&renamed{kmswrap.WithClient(client, "alias/other"), w.ID()})
	if _, err := other.Open(ctx, rec, []byte("T1")); err == nil {
		t.Fatal("another KMS key unwrapped the data key")
	}
	var apiErr interface{ ErrorCode() string }
	_, err = kmswrap.WithClient(client, "alias/missing").Wrap(ctx, make([]byte, 32))
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NotFoundException" {
		t.Fatalf("missing key: %v", err)
	}
}

type renamed struct {
	sealed.KeyWrapper
	id string
}

func (r *renamed) ID() string { return r.id }
