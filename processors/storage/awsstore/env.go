package awsstore

import "github.com/mariahq/maria/bus/config"

// FromEnv is the SDK configuration of Maria's AWS clients from the
// standard AWS_* variables (region, per-service endpoints, static
// credentials; without them the SDK's default chain: IRSA, instance
// roles): one reader for storage, settings, installations, connected Odoo
// accounts and backups, so they all honour the same variables.
func FromEnv(env *config.Env) ClientConfig {
	return ClientConfig{
		Region:           env.String("AWS_REGION", env.String("AWS_DEFAULT_REGION", "")),
		S3Endpoint:       env.String("AWS_ENDPOINT_URL_S3", env.String("AWS_ENDPOINT_URL", "")),
		DynamoDBEndpoint: env.String("AWS_ENDPOINT_URL_DYNAMODB", env.String("AWS_ENDPOINT_URL", "")),
		AccessKeyID:      env.String("AWS_ACCESS_KEY_ID", ""),
		SecretAccessKey:  env.String("AWS_SECRET_ACCESS_KEY", ""),
		SessionToken:     env.String("AWS_SESSION_TOKEN", ""),
	}
}
