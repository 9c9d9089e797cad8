// Package kmswrap is the AWS KMS KeyWrapper of package sealed: data keys
// are wrapped by KMS Encrypt and unwrapped by KMS Decrypt, so the master
// key never leaves KMS and every unwrap is in CloudTrail. It is a separate
// package so that only processes that use KMS link the AWS SDK's KMS client.
package kmswrap

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/mariahq/maria/bus/sealed"
	"github.com/rs/zerolog"
)

// API is the part of the KMS client the wrapper uses.
type API interface {
	Encrypt(ctx context.Context, in *kms.EncryptInput, opts ...func(*kms.Options)) (*kms.EncryptOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// encryptionContext is authenticated by KMS with every wrapped key (and
// shows in CloudTrail): a key wrapped for Maria does not decrypt as
// anything else.
var encryptionContext = map[string]string{"purpose": "maria-data-key"}

// Wrapper wraps data keys with one KMS key.
type Wrapper struct {
	api   API
	keyID string
}

// New is a sealed.KMSFactory: the client comes from the SDK's default
// configuration (AWS_REGION, credentials, AWS_ENDPOINT_URL_KMS).
func New(ctx context.Context, keyID string) (sealed.KeyWrapper, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("kms: aws configuration: %w", err)
	}
	return WithClient(kms.NewFromConfig(cfg), keyID), nil
}

// WithClient wraps with keyID through api.
func WithClient(api API, keyID string) *Wrapper { return &Wrapper{api: api, keyID: keyID} }

// ID is "kms:" and the configured key id: records name the KMS key that
// wrapped them, apart from local keys.
func (w *Wrapper) ID() string { return "kms:" + w.keyID }

func (w *Wrapper) Wrap(ctx context.Context, dataKey []byte) ([]byte, error) {
	out, err := w.api.Encrypt(ctx, &kms.EncryptInput{
		KeyId: aws.String(w.keyID), Plaintext: dataKey, EncryptionContext: encryptionContext,
	})
	if err != nil {
		return nil, fmt.Errorf("kms encrypt with %s: %w", w.keyID, err)
	}
	return out.CiphertextBlob, nil
}

// Unwrap names the key too: KMS then refuses a blob of another key instead
// of decrypting it with whichever key made it.
func (w *Wrapper) Unwrap(ctx context.Context, wrapped []byte) ([]byte, error) {
	out, err := w.api.Decrypt(ctx, &kms.DecryptInput{
		KeyId: aws.String(w.keyID), CiphertextBlob: wrapped, EncryptionContext: encryptionContext,
	})
	if err != nil {
		return nil, fmt.Errorf("kms decrypt with %s: %w", w.keyID, err)
	}
	return out.Plaintext, nil
}

// Keyring is sealed.Load with this package's KMS client: what a service
// calls to get the keyring its environment describes.
func Keyring(ctx context.Context, s sealed.Settings, dataDir string, log zerolog.Logger) (*sealed.Keyring, error) {
	return sealed.Load(ctx, s, dataDir, New, log)
}
