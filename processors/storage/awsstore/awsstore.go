// Package awsstore is the AWS storage backend: S3 for file contents (with
// server-side encryption requested on every put) and one DynamoDB table in
// a single-table design for records:
//
//	pk                                   sk                    item
//	THREAD#<team>#<channel>#<thread_ts>  MSG#<ts>#<id>         history entry
//	THREAD#<team>#<channel>#<thread_ts>  FILE#<sha256>         content index (same bytes in the thread)
//	FILE#<team>#<file id>                FILE                  file record (FILE#<file id> before: still read)
//	IDEM#<key>                           IDEM                  work claim
//
// Every item carries a numeric `ttl` attribute (epoch seconds) when a
// retention is configured; enable DynamoDB TTL on that attribute.
package awsstore

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/mariahq/maria/processors/storage/store"
)

// Server-side encryption modes (MARIA_S3_SSE).
const (
	SSEAES256 = "AES256"
	SSEKMS    = "aws:kms"
	SSENone   = "none"
)

// Config of the AWS backend.
type Config struct {
	ImagesBucket string
	DocsBucket   string
	Table        string
	// SSE is requested on every put: AES256 (S3-managed keys), aws:kms, or none.
	SSE string
	// KMSKeyID selects the KMS key for aws:kms (empty: the account's default key).
	KMSKeyID string
	// PathStyle addresses buckets as <endpoint>/<bucket> (S3-compatible servers).
	PathStyle bool
	// Retention sets each record's ttl attribute (0: none).
	Retention time.Duration
}

// ClientConfig is what the SDK needs beyond its own default chain. Empty
// fields leave the SDK's defaults (shared config, IMDS, ...) in charge.
type ClientConfig struct {
	Region           string
	S3Endpoint       string
	DynamoDBEndpoint string
	AccessKeyID      string
	SecretAccessKey  string
	SessionToken     string
}

// Store implements store.Blobs and store.Records on S3 and DynamoDB.
type Store struct {
	S3  *s3.Client
	DDB *dynamodb.Client
	cfg Config
}

var (
	_ store.Blobs   = (*Store)(nil)
	_ store.Records = (*Store)(nil)
)

// Clients builds the S3 and DynamoDB clients with the SDK's standard
// configuration, overridden by whatever cc sets.
func Clients(ctx context.Context, cc ClientConfig, pathStyle bool) (*s3.Client, *dynamodb.Client, error) {
	var opts []func(*config.LoadOptions) error
	if cc.Region != "" {
		opts = append(opts, config.WithRegion(cc.Region))
	}
	if cc.AccessKeyID != "" && cc.SecretAccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cc.AccessKeyID, cc.SecretAccessKey, cc.SessionToken)))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("aws config: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, nil, errors.New("aws config: no region (set AWS_REGION)")
	}
	s3c := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cc.S3Endpoint != "" {
			o.BaseEndpoint = aws.String(cc.S3Endpoint)
		}
		o.UsePathStyle = pathStyle
	})
	ddb := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		if cc.DynamoDBEndpoint != "" {
			o.BaseEndpoint = aws.String(cc.DynamoDBEndpoint)
		}
	})
	return s3c, ddb, nil
}

// New wraps ready clients.
func New(s3c *s3.Client, ddb *dynamodb.Client, cfg Config) *Store {
	if cfg.SSE == "" {
		cfg.SSE = SSEAES256
	}
	return &Store{S3: s3c, DDB: ddb, cfg: cfg}
}

// Backend implements store.Blobs.
func (s *Store) Backend() string { return store.BackendAWS }

// Put implements store.Blobs. The sha256 travels as the object's
// x-amz-checksum-sha256, so S3 rejects a corrupted upload.
func (s *Store) Put(ctx context.Context, o store.PutObject) error {
	if _, err := o.Body.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind %s: %w", o.Key, err)
	}
	in := &s3.PutObjectInput{
		Bucket:        aws.String(o.Bucket),
		Key:           aws.String(o.Key),
		Body:          o.Body,
		ContentLength: aws.Int64(o.Size),
		ContentType:   aws.String(o.ContentType),
		Metadata:      o.Metadata,
	}
	if o.SHA256 != "" {
		raw, err := hex.DecodeString(o.SHA256)
		if err != nil {
			return fmt.Errorf("put %s: sha256 %q: %w", o.Key, o.SHA256, err)
		}
		in.ChecksumSHA256 = aws.String(base64.StdEncoding.EncodeToString(raw))
	}
	switch s.cfg.SSE {
	case SSEAES256:
		in.ServerSideEncryption = s3types.ServerSideEncryptionAes256
	case SSEKMS:
		in.ServerSideEncryption = s3types.ServerSideEncryptionAwsKms
		if s.cfg.KMSKeyID != "" {
			in.SSEKMSKeyId = aws.String(s.cfg.KMSKeyID)
		}
	}
	if _, err := s.S3.PutObject(ctx, in); err != nil {
		return fmt.Errorf("s3 put %s/%s: %w", o.Bucket, o.Key, err)
	}
	return nil
}

func isNotFound(err error) bool {
	var nk *s3types.NoSuchKey
	var nf *s3types.NotFound
	if errors.As(err, &nk) || errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "NotFound" || ae.ErrorCode() == "NoSuchKey")
}

// Stat implements store.Blobs.
func (s *Store) Stat(ctx context.Context, bucket, key string) (store.ObjectInfo, error) {
	out, err := s.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if isNotFound(err) {
		return store.ObjectInfo{}, fmt.Errorf("%s/%s: %w", bucket, key, store.ErrNotFound)
	}
	if err != nil {
		return store.ObjectInfo{}, fmt.Errorf("s3 head %s/%s: %w", bucket, key, err)
	}
	return store.ObjectInfo{Bucket: bucket, Key: key, ContentType: aws.ToString(out.ContentType),
		Size: aws.ToInt64(out.ContentLength), Metadata: out.Metadata, Encryption: string(out.ServerSideEncryption)}, nil
}

// Get implements store.Blobs.
func (s *Store) Get(ctx context.Context, bucket, key string) (io.ReadCloser, store.ObjectInfo, error) {
	out, err := s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if isNotFound(err) {
		return nil, store.ObjectInfo{}, fmt.Errorf("%s/%s: %w", bucket, key, store.ErrNotFound)
	}
	if err != nil {
		return nil, store.ObjectInfo{}, fmt.Errorf("s3 get %s/%s: %w", bucket, key, err)
	}
	return out.Body, store.ObjectInfo{Bucket: bucket, Key: key, ContentType: aws.ToString(out.ContentType),
		Size: aws.ToInt64(out.ContentLength), Metadata: out.Metadata, Encryption: string(out.ServerSideEncryption)}, nil
}

// List implements store.Blobs.
func (s *Store) List(ctx context.Context, bucket string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.S3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("s3 list %s: %w", bucket, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// Check implements store.Blobs and store.Records: both buckets and the
// table must be reachable with the configured credentials.
func (s *Store) Check(ctx context.Context) error {
	for _, b := range []string{s.cfg.ImagesBucket, s.cfg.DocsBucket} {
		if _, err := s.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)}); err != nil {
			return fmt.Errorf("s3 bucket %s: %w", b, err)
		}
	}
	out, err := s.DDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.cfg.Table)})
	if err != nil {
		return fmt.Errorf("dynamodb table %s: %w", s.cfg.Table, err)
	}
	if st := out.Table.TableStatus; st != ddbtypes.TableStatusActive && st != ddbtypes.TableStatusUpdating {
		return fmt.Errorf("dynamodb table %s is %s", s.cfg.Table, st)
	}
	return nil
}

// CreateTable creates the single table (pk/sk strings, on-demand billing)
// and waits until it is active. Production tables come from Terraform
// (infra/); tests and local setups use this.
func CreateTable(ctx context.Context, ddb *dynamodb.Client, name string) error {
	_, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
		},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange},
		},
		BillingMode: ddbtypes.BillingModePayPerRequest,
	})
	var inUse *ddbtypes.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(ddb, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 100 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		return fmt.Errorf("table %s not active: %w", name, err)
	}
	return nil
}

// keyPart keeps '#' (the separator) out of key components.
func keyPart(s string) string {
	if !strings.ContainsAny(s, "#%") {
		return s
	}
	return strings.NewReplacer("%", "%25", "#", "%23").Replace(s)
}

func threadPK(team, channel, thread string) string {
	return "THREAD#" + keyPart(team) + "#" + keyPart(channel) + "#" + keyPart(thread)
}

func (s *Store) ttl() (ddbtypes.AttributeValue, bool) {
	if s.cfg.Retention <= 0 {
		return nil, false
	}
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(s.cfg.Retention).Unix(), 10)}, true
}

func jsonTags(o *attributevalue.EncoderOptions) { o.TagKey = "json" }
func jsonTagsDecode(o *attributevalue.DecoderOptions) {
	o.TagKey = "json"
}

func (s *Store) item(pk, sk, kind string, v any) (map[string]ddbtypes.AttributeValue, error) {
	item, err := attributevalue.MarshalMapWithOptions(v, jsonTags)
	if err != nil {
		return nil, fmt.Errorf("encode %s item: %w", kind, err)
	}
	item["pk"] = &ddbtypes.AttributeValueMemberS{Value: pk}
	item["sk"] = &ddbtypes.AttributeValueMemberS{Value: sk}
	item["kind"] = &ddbtypes.AttributeValueMemberS{Value: kind}
	if t, ok := s.ttl(); ok {
		item["ttl"] = t
	}
	return item, nil
}

func key(pk, sk string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: pk},
		"sk": &ddbtypes.AttributeValueMemberS{Value: sk},
	}
}

// expired reports whether an item's ttl passed: DynamoDB deletes expired
// items lazily (up to days later), so reads ignore them.
func expired(item map[string]ddbtypes.AttributeValue) bool {
	n, ok := item["ttl"].(*ddbtypes.AttributeValueMemberN)
	if !ok {
		return false
	}
	t, err := strconv.ParseInt(n.Value, 10, 64)
	return err == nil && t < time.Now().Unix()
}

func (s *Store) getItem(ctx context.Context, pk, sk string, v any) (bool, error) {
	out, err := s.DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.cfg.Table), Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, fmt.Errorf("dynamodb get %s: %w", pk, err)
	}
	if len(out.Item) == 0 || expired(out.Item) {
		return false, nil
	}
	if err := attributevalue.UnmarshalMapWithOptions(out.Item, v, jsonTagsDecode); err != nil {
		return false, fmt.Errorf("decode %s: %w", pk, err)
	}
	return true, nil
}

// putNew writes item unless an unexpired item with its key exists; then it
// reads the existing one into existing.
func (s *Store) putNew(ctx context.Context, pk, sk, kind string, v, existing any) (bool, error) {
	item, err := s.item(pk, sk, kind, v)
	if err != nil {
		return false, err
	}
	now := &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Unix(), 10)}
	_, err = s.DDB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.cfg.Table),
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR #ttl < :now"),
		ExpressionAttributeNames:  map[string]string{"#ttl": "ttl"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":now": now},
	})
	var ccf *ddbtypes.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		found, gerr := s.getItem(ctx, pk, sk, existing)
		if gerr != nil {
			return false, gerr
		}
		if !found {
			return false, fmt.Errorf("dynamodb put %s: exists but cannot be read back", pk)
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("dynamodb put %s: %w", pk, err)
	}
	return true, nil
}

// filePK is a file record's key: per workspace, as a Slack Connect
// channel shows one file id to several. legacyFilePK is the key records
// had before (the file id alone), still read (store.LegacyFileOf).
func filePK(team, fileID string) string { return "FILE#" + keyPart(team) + "#" + keyPart(fileID) }

func legacyFilePK(fileID string) string { return "FILE#" + keyPart(fileID) }

// GetFile implements store.Records.
func (s *Store) GetFile(ctx context.Context, team, fileID string) (store.FileRecord, bool, error) {
	var r store.FileRecord
	found, err := s.getItem(ctx, filePK(team, fileID), "FILE", &r)
	if err != nil || found {
		return r, found, err
	}
	var old store.FileRecord
	found, err = s.getItem(ctx, legacyFilePK(fileID), "FILE", &old)
	if err != nil || !found || !store.LegacyFileOf(old, team) {
		return store.FileRecord{}, false, err
	}
	return old, true, nil
}

// CreateFile implements store.Records.
func (s *Store) CreateFile(ctx context.Context, r store.FileRecord) (store.FileRecord, bool, error) {
	var existing store.FileRecord
	created, err := s.putNew(ctx, filePK(r.Team, r.FileID), "FILE", "file", r, &existing)
	return existing, created, err
}

// GetContent implements store.Records.
func (s *Store) GetContent(ctx context.Context, team, channel, threadTS, sha string) (store.FileRecord, bool, error) {
	var r store.FileRecord
	found, err := s.getItem(ctx, threadPK(team, channel, threadTS), "FILE#"+keyPart(sha), &r)
	return r, found, err
}

// CreateContent implements store.Records.
func (s *Store) CreateContent(ctx context.Context, r store.FileRecord) (store.FileRecord, bool, error) {
	var existing store.FileRecord
	created, err := s.putNew(ctx, threadPK(r.Team, r.Channel, r.ThreadTS), "FILE#"+keyPart(r.SHA256), "content", r, &existing)
	return existing, created, err
}

// Claim implements store.Records with a conditional put: it succeeds when
// no claim exists or the existing one is older than stale.
func (s *Store) Claim(ctx context.Context, k string, stale time.Duration) error {
	now := time.Now()
	item := key("IDEM#"+keyPart(k), "IDEM")
	item["kind"] = &ddbtypes.AttributeValueMemberS{Value: "claim"}
	item["claimed_ms"] = &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(now.UnixMilli(), 10)}
	// Claims outlive any sane piece of work, and never the retention.
	item["ttl"] = &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(24*time.Hour).Unix(), 10)}
	_, err := s.DDB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.cfg.Table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk) OR claimed_ms < :stale"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":stale": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(-stale).UnixMilli(), 10)},
		},
	})
	var ccf *ddbtypes.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return store.ErrInFlight
	}
	if err != nil {
		return fmt.Errorf("dynamodb claim %s: %w", k, err)
	}
	return nil
}

// Release implements store.Records.
func (s *Store) Release(ctx context.Context, k string) error {
	_, err := s.DDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.cfg.Table), Key: key("IDEM#"+keyPart(k), "IDEM")})
	if err != nil {
		return fmt.Errorf("dynamodb release %s: %w", k, err)
	}
	return nil
}

// PutEntry implements store.Records.
func (s *Store) PutEntry(ctx context.Context, e store.Entry) error {
	item, err := s.item(threadPK(e.Team, e.Channel, e.ThreadTS), "MSG#"+keyPart(e.TS)+"#"+keyPart(e.ID), "entry", e)
	if err != nil {
		return err
	}
	if _, err := s.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.cfg.Table), Item: item}); err != nil {
		return fmt.Errorf("dynamodb put history entry: %w", err)
	}
	return nil
}

// Entries implements store.Records: the newest maxEntries entries of the
// thread (a descending query), returned oldest first.
func (s *Store) Entries(ctx context.Context, team, channel, threadTS string, maxEntries int) ([]store.Entry, error) {
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.cfg.Table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :msg)"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":pk":  &ddbtypes.AttributeValueMemberS{Value: threadPK(team, channel, threadTS)},
			":msg": &ddbtypes.AttributeValueMemberS{Value: "MSG#"},
		},
		ScanIndexForward: aws.Bool(false),
		ConsistentRead:   aws.Bool(true),
	}
	var out []store.Entry
	p := dynamodb.NewQueryPaginator(s.DDB, in)
	for p.HasMorePages() && (maxEntries <= 0 || len(out) < maxEntries) {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("dynamodb query thread: %w", err)
		}
		for _, item := range page.Items {
			if expired(item) {
				continue
			}
			var e store.Entry
			if err := attributevalue.UnmarshalMapWithOptions(item, &e, jsonTagsDecode); err != nil {
				return nil, fmt.Errorf("decode history entry: %w", err)
			}
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].TS != out[j].TS {
			return store.TSLess(out[i].TS, out[j].TS)
		}
		return out[i].Time.Before(out[j].Time)
	})
	if maxEntries > 0 && len(out) > maxEntries {
		out = out[len(out)-maxEntries:]
	}
	return out, nil
}
