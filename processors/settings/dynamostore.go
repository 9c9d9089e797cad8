package settings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoStore keeps settings in the storage processor's DynamoDB table
// (MARIA_DYNAMODB_TABLE), one item per team:
//
//	pk                 sk         attributes
//	SETTINGS#<team>    SETTINGS   rev (number), data (JSON of Settings)
//
// rev is the compare-and-set revision; settings never expire (no ttl).
type DynamoStore struct {
	DDB   *dynamodb.Client
	Table string
}

var _ Store = (*DynamoStore)(nil)

// Backend is "aws".
func (s *DynamoStore) Backend() string { return BackendAWS }

func (s *DynamoStore) key(team string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: "SETTINGS#" + team},
		"sk": &ddbtypes.AttributeValueMemberS{Value: "SETTINGS"},
	}
}

// Get reads team's settings (strongly consistent).
func (s *DynamoStore) Get(ctx context.Context, team string) (Settings, uint64, bool, error) {
	out, err := s.DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: s.key(team), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Settings{}, 0, false, fmt.Errorf("dynamodb get settings %s: %w", team, err)
	}
	if len(out.Item) == 0 {
		return Settings{}, 0, false, nil
	}
	revAttr, ok1 := out.Item["rev"].(*ddbtypes.AttributeValueMemberN)
	data, ok2 := out.Item["data"].(*ddbtypes.AttributeValueMemberS)
	if !ok1 || !ok2 {
		return Settings{}, 0, false, fmt.Errorf("dynamodb settings %s: item without rev or data", team)
	}
	rev, err := strconv.ParseUint(revAttr.Value, 10, 64)
	if err != nil {
		return Settings{}, 0, false, fmt.Errorf("dynamodb settings %s: rev: %w", team, err)
	}
	var st Settings
	if err := json.Unmarshal([]byte(data.Value), &st); err != nil {
		return Settings{}, 0, false, fmt.Errorf("dynamodb settings %s: decode: %w", team, err)
	}
	return st, rev, true, nil
}

// Put writes st when the stored revision is still rev (0: no item yet).
func (s *DynamoStore) Put(ctx context.Context, st Settings, rev uint64) (uint64, error) {
	data, err := json.Marshal(st)
	if err != nil {
		return 0, fmt.Errorf("encode settings: %w", err)
	}
	item := s.key(st.TeamID)
	item["kind"] = &ddbtypes.AttributeValueMemberS{Value: "settings"}
	item["rev"] = &ddbtypes.AttributeValueMemberN{Value: strconv.FormatUint(rev+1, 10)}
	item["data"] = &ddbtypes.AttributeValueMemberS{Value: string(data)}
	in := &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item}
	if rev == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		in.ConditionExpression = aws.String("rev = :rev")
		in.ExpressionAttributeValues = map[string]ddbtypes.AttributeValue{":rev": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatUint(rev, 10)}}
	}
	_, err = s.DDB.PutItem(ctx, in)
	var failed *ddbtypes.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return 0, fmt.Errorf("%w: %s", ErrConflict, st.TeamID)
	}
	if err != nil {
		return 0, fmt.Errorf("dynamodb put settings %s: %w", st.TeamID, err)
	}
	return rev + 1, nil
}
