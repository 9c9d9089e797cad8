package awsstore

import "github.com/mariahq/maria/bus/config"

// DynamoDBFromEnv is the SDK configuration of a DynamoDB client from the
// standard AWS_* variables (region, endpoint, static credentials; without
// them the SDK's default chain: IRSA, instance roles), for the stores that
// keep their records in MARIA_DYNAMODB_TABLE.
func DynamoDBFromEnv(env *config.Env) ClientConfig {
	return ClientConfig{
		Region:           env.String("AWS_REGION", env.String("AWS_DEFAULT_REGION", "")),
		DynamoDBEndpoint: env.String("AWS_ENDPOINT_URL_DYNAMODB", env.String("AWS_ENDPOINT_URL", "")),
		AccessKeyID:      env.String("AWS_ACCESS_KEY_ID", ""),
		SecretAccessKey:  env.String("AWS_SECRET_ACCESS_KEY", ""),
		SessionToken:     env.String("AWS_SESSION_TOKEN", ""),
	}
}
