// Package installstore is where the Slack installations of a multi-workspace
// Maria are kept in production: NATS KV (bus/installs.KVStore) by default,
// the storage processor's DynamoDB table with MARIA_STORAGE=aws. It lives
// outside bus so that bus links no AWS SDK.
package installstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/mariahq/maria/bus/installs"
	"github.com/mariahq/maria/bus/sealed"
)

// DynamoStore keeps installations in the storage processor's single table
// (MARIA_DYNAMODB_TABLE), next to settings and thread history:
//
//	pk                         sk        attributes
//	INSTALL#team.<team>        INSTALL   rev (number), data (installs.Encode: metadata, sealed tokens)
//	INSTALL#enterprise.<ent>   INSTALL   rev, data
//	INSTALLLINK#<team>         LINK      enterprise
//
// rev is the compare-and-set revision: a token rotation is a conditional
// update on it, so of several replicas refreshing at once one wins and the
// others see ErrConflict. Installations never expire (no ttl).
type DynamoStore struct {
	DDB   *dynamodb.Client
	Table string
	Ring  *sealed.Keyring
}

var _ installs.Store = (*DynamoStore)(nil)

const (
	attrRev  = "rev"
	attrData = "data"
)

// ItemKey is the primary key of the installation stored under key
// (installs.TeamKey / EnterpriseKey).
func ItemKey(key string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: "INSTALL#" + key},
		"sk": &ddbtypes.AttributeValueMemberS{Value: "INSTALL"},
	}
}

func linkItemKey(team string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: "INSTALLLINK#" + team},
		"sk": &ddbtypes.AttributeValueMemberS{Value: "LINK"},
	}
}

func num(n uint64) *ddbtypes.AttributeValueMemberN {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatUint(n, 10)}
}

func revOf(item map[string]ddbtypes.AttributeValue) (uint64, error) {
	a, ok := item[attrRev].(*ddbtypes.AttributeValueMemberN)
	if !ok {
		return 0, errors.New("item without rev")
	}
	return strconv.ParseUint(a.Value, 10, 64)
}

// Save writes in whatever is stored (a reinstall replaces), bumping rev
// atomically so a replica holding the previous revision cannot overwrite it.
func (s *DynamoStore) Save(ctx context.Context, in installs.Installation) (installs.Record, error) {
	raw, err := installs.Encode(ctx, s.Ring, in)
	if err != nil {
		return installs.Record{}, err
	}
	out, err := s.DDB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.Table),
		Key:              ItemKey(in.Key()),
		UpdateExpression: aws.String("SET #data = :data, kind = :kind ADD #rev :one"),
		ExpressionAttributeNames: map[string]string{
			"#data": attrData, "#rev": attrRev,
		},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":data": &ddbtypes.AttributeValueMemberS{Value: string(raw)},
			":kind": &ddbtypes.AttributeValueMemberS{Value: "installation"},
			":one":  num(1),
		},
		ReturnValues: ddbtypes.ReturnValueUpdatedNew,
	})
	if err != nil {
		return installs.Record{}, fmt.Errorf("dynamodb save %s: %w", in, err)
	}
	rev, err := revOf(out.Attributes)
	if err != nil {
		return installs.Record{}, fmt.Errorf("dynamodb save %s: %w", in, err)
	}
	return installs.Record{Installation: in, Revision: rev}, nil
}

func (s *DynamoStore) get(ctx context.Context, key string) (installs.Record, error) {
	out, err := s.DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: ItemKey(key), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return installs.Record{}, fmt.Errorf("dynamodb installation %s: %w", key, err)
	}
	if len(out.Item) == 0 {
		return installs.Record{}, fmt.Errorf("installation %s: %w", key, installs.ErrNotInstalled)
	}
	rev, err := revOf(out.Item)
	data, ok := out.Item[attrData].(*ddbtypes.AttributeValueMemberS)
	if err != nil || !ok {
		return installs.Record{}, fmt.Errorf("dynamodb installation %s: item without rev or data", key)
	}
	in, err := installs.Decode(ctx, s.Ring, key, []byte(data.Value))
	if err != nil {
		return installs.Record{}, err
	}
	return installs.Record{Installation: in, Revision: rev}, nil
}

func (s *DynamoStore) Find(ctx context.Context, team string) (installs.Record, error) {
	rec, err := s.get(ctx, installs.TeamKey(team))
	if !errors.Is(err, installs.ErrNotInstalled) {
		return rec, err
	}
	out, lerr := s.DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: linkItemKey(team), ConsistentRead: aws.Bool(true)})
	if lerr != nil {
		return installs.Record{}, fmt.Errorf("dynamodb installation link of %s: %w", team, lerr)
	}
	ent, ok := out.Item["enterprise"].(*ddbtypes.AttributeValueMemberS)
	if !ok || ent.Value == "" {
		return installs.Record{}, err
	}
	return s.FindEnterprise(ctx, ent.Value)
}

func (s *DynamoStore) FindEnterprise(ctx context.Context, enterprise string) (installs.Record, error) {
	return s.get(ctx, installs.EnterpriseKey(enterprise))
}

func (s *DynamoStore) Link(ctx context.Context, team, enterprise string) error {
	item := linkItemKey(team)
	item["kind"] = &ddbtypes.AttributeValueMemberS{Value: "installation-link"}
	item["enterprise"] = &ddbtypes.AttributeValueMemberS{Value: enterprise}
	if _, err := s.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item}); err != nil {
		return fmt.Errorf("dynamodb link %s to %s: %w", team, enterprise, err)
	}
	return nil
}

// Replace is a conditional update on rec's revision: it fails with
// ErrConflict when another replica wrote first or the install was deleted
// (the condition never holds on a missing item, so nothing is resurrected).
func (s *DynamoStore) Replace(ctx context.Context, rec installs.Record, next installs.Installation) (installs.Record, error) {
	if next.Key() != rec.Key() {
		return installs.Record{}, fmt.Errorf("replace %s with %s: not the same installation", rec.Installation, next)
	}
	raw, err := installs.Encode(ctx, s.Ring, next)
	if err != nil {
		return installs.Record{}, err
	}
	_, err = s.DDB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.Table),
		Key:                      ItemKey(next.Key()),
		UpdateExpression:         aws.String("SET #data = :data, #rev = :next"),
		ConditionExpression:      aws.String("#rev = :rev"),
		ExpressionAttributeNames: map[string]string{"#data": attrData, "#rev": attrRev},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":data": &ddbtypes.AttributeValueMemberS{Value: string(raw)},
			":rev":  num(rec.Revision),
			":next": num(rec.Revision + 1),
		},
	})
	var failed *ddbtypes.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return installs.Record{}, fmt.Errorf("replace %s: %w", next, installs.ErrConflict)
	}
	if err != nil {
		return installs.Record{}, fmt.Errorf("dynamodb replace %s: %w", next, err)
	}
	return installs.Record{Installation: next, Revision: rec.Revision + 1}, nil
}

func (s *DynamoStore) Delete(ctx context.Context, key string) error {
	if _, err := s.DDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.Table), Key: ItemKey(key)}); err != nil {
		return fmt.Errorf("dynamodb delete installation %s: %w", key, err)
	}
	return nil
}
