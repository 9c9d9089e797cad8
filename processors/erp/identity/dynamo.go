package identity

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Dynamo keeps connected accounts in the DynamoDB table of the other
// records (MARIA_DYNAMODB_TABLE, MARIA_STORAGE=aws), one item per person:
//
//	pk                        sk         attributes
//	ODOOID#<team>#<user>      ODOOID     value (binary: the sealed credential)
//
// Slack ids are letters and digits, so '#' cannot collide. The value is
// sealed by Store before it gets here; a disconnect deletes the item (no
// ttl: a credential lasts until the person disconnects).
type Dynamo struct {
	DDB   *dynamodb.Client
	Table string
}

var _ Raw = (*Dynamo)(nil)

func (d *Dynamo) key(team, user string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: "ODOOID#" + team + "#" + user},
		"sk": &ddbtypes.AttributeValueMemberS{Value: "ODOOID"},
	}
}

// Get reads the person's item (strongly consistent: a connect is seen at
// once by every replica).
func (d *Dynamo) Get(ctx context.Context, team, user string) ([]byte, bool, error) {
	out, err := d.DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(d.Table), Key: d.key(team, user), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, false, fmt.Errorf("dynamodb get odoo identity: %w", err)
	}
	if len(out.Item) == 0 {
		return nil, false, nil
	}
	v, ok := out.Item["value"].(*ddbtypes.AttributeValueMemberB)
	if !ok {
		return nil, false, fmt.Errorf("dynamodb odoo identity of %s/%s: item without a binary value", team, user)
	}
	return v.Value, true, nil
}

// Put writes (or replaces) the person's item.
func (d *Dynamo) Put(ctx context.Context, team, user string, value []byte) error {
	item := d.key(team, user)
	item["kind"] = &ddbtypes.AttributeValueMemberS{Value: "odoo_identity"}
	item["value"] = &ddbtypes.AttributeValueMemberB{Value: value}
	if _, err := d.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(d.Table), Item: item}); err != nil {
		return fmt.Errorf("dynamodb put odoo identity: %w", err)
	}
	return nil
}

// Delete removes the item; a missing one is not an error.
func (d *Dynamo) Delete(ctx context.Context, team, user string) error {
	if _, err := d.DDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(d.Table), Key: d.key(team, user)}); err != nil {
		return fmt.Errorf("dynamodb delete odoo identity: %w", err)
	}
	return nil
}
