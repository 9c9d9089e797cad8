package natsconn

import (
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats-server/v2/server"
)

// NATS users of Maria: the operator (everything in the account: declares
// streams, runs the all-in-one process and the operator commands) and one
// least-privilege user per service. The same users, with the same
// permissions, are in infra/nats/accounts.conf (external servers) and
// infra/k8s/nats-values.yaml; tests/security and tests/infra fail when they
// drift from Permissions.
const Operator = "operator"

// users lists every user, operator first. Unexported so nobody can change
// who the embedded server admits; Users hands out a copy.
var users = []string{
	Operator, "ingress", "egress", "ai", "erp", "storage", "example", "clock",
	// maria new processor: users
}

// Users lists every NATS user of Maria, operator first (a fresh copy).
func Users() []string { return append([]string(nil), users...) }

// Permissions returns a fresh copy of user's permissions (the server
// may keep and index what it is given), nil for the operator, and false for
// an unknown user.
func Permissions(user string) (*server.Permissions, bool) {
	switch user {
	case Operator:
		return nil, true
	case "ingress":
		return perms(pub("maria.in.>",
			// dead letters of events it cannot publish (rate limited, invalid)
			"maria.dlq.MARIA_IN.ingress-ratelimit", "maria.dlq.MARIA_IN.ingress-invalid",
			// hands a sealed Odoo API key to the erp service (connect modal)
			schemas.SubjectERPIdentity,
			// Slack installations: the OAuth install stores them, uninstall
			// deletes them, users.info uses each workspace's token
			bucket("KV", schemas.InstallsBucket)),
			inbox), true
	case "egress":
		// its partition consumers on MARIA_OUT (egress-<i>-of-<n>, and
		// "egress" before partitions): MARIA_OUT has no other consumer
		return perms(pub(consumer(schemas.StreamOut, "*"),
			"$JS.API.CONSUMER.UNPIN.MARIA_OUT.*",
			"$JS.API.STREAM.MSG.GET.MARIA_OUT", "maria.delivered.>", "maria.dlq.>",
			bucket("KV", "maria_egress"), bucket("KV", "maria_egress_refs"),
			// each workspace's bot token, refreshed before it expires
			bucket("KV", schemas.InstallsBucket)),
			inbox, maxDeliveries), true
	case "ai":
		return perms(pub(consumer(schemas.StreamIn, "ai"), consumer(schemas.StreamERP, "ai-results"),
			"$JS.API.STREAM.MSG.GET.MARIA_IN", "$JS.API.STREAM.MSG.GET.MARIA_ERP",
			// answers, confirmed ERP writes (after a click), the audit trail
			"maria.out.>", "maria.erp.command.>", "maria.audit.>", "maria.dlq.>",
			// requests: ERP reads, /maria connect|disconnect, thread history
			schemas.SubjectERPQuery, schemas.SubjectERPIdentity, schemas.SubjectHistoryQuery,
			// a shared file's text or image, from storage
			schemas.SubjectFileRead,
			bucket("KV", "maria_ai_turns"), bucket("KV", "maria_proposals"),
			bucket("KV", "maria_memory"), bucket("KV", "maria_ai_budget"),
			// per-workspace settings (App Home; processors/settings)
			bucket("KV", "maria_settings"),
			// owns the claims bucket other processors announce in
			bucket("KV", schemas.ClaimsBucket)),
			inbox, maxDeliveries), true
	case "erp":
		p := perms(pub(consumer(schemas.StreamERP, "erp"),
			"$JS.API.STREAM.MSG.GET.MARIA_ERP",
			// the Slack click that confirmed a write, to verify it
			"$JS.API.STREAM.MSG.GET.MARIA_IN",
			"maria.erp.result.>", "maria.audit.>", "maria.dlq.>",
			bucket("KV", "maria_erp"),
			// people's connected Odoo accounts, sealed
			bucket("KV", "maria_erp_identities"),
			// read-only view of the ai's proposals (bind + get, never put)
			"$JS.API.STREAM.INFO.KV_maria_proposals",
			"$JS.API.DIRECT.GET.KV_maria_proposals.>",
			"$JS.API.STREAM.MSG.GET.KV_maria_proposals"),
			// serves maria.erp.query (a nats micro service: $SRV.> for discovery);
			// hears every replica's results to invalidate its read cache
			inbox, schemas.SubjectERPQuery, schemas.SubjectERPIdentity, "$SRV.>", schemas.SubjectERPResultAll, maxDeliveries)
		p.Response = answerOnce()
		return p, true
	case "storage":
		p := perms(pub(consumer(schemas.StreamIn, "storage-files"), consumer(schemas.StreamIn, "storage-history-in"),
			consumer(schemas.StreamDelivered, "storage-history-out"),
			"$JS.API.STREAM.MSG.GET.MARIA_IN", "$JS.API.STREAM.MSG.GET.MARIA_DELIVERED",
			"maria.stored.>", "maria.dlq.>",
			bucket("KV", "maria_records"), bucket("KV", "maria_storage_claims"),
			bucket("OBJ", "maria_images"), bucket("OBJ", "maria_docs"),
			// each workspace's bot token for file downloads
			bucket("KV", schemas.InstallsBucket)),
			// serves maria.history.query and maria.files.read (nats micro)
			inbox, schemas.SubjectHistoryQuery, schemas.SubjectFileRead, "$SRV.>", maxDeliveries)
		p.Response = answerOnce()
		return p, true
	case "example":
		return ProcessorPermissions("example", "example-thanks", "maria_example_thanks"), true
	case "clock":
		// The Node.js processor (examples/node-clock): the same shape,
		// without state.
		return perms(pub(consumer(schemas.StreamIn, "clock"),
			// the nats client creates a durable with several filters there
			"$JS.API.CONSUMER.DURABLE.CREATE.MARIA_IN.clock",
			"$JS.API.STREAM.MSG.GET.MARIA_IN", "maria.out.>", "maria.dlq.>", claimant("clock")),
			inbox), true
		// maria new processor: permissions
	}
	return nil, false
}

const (
	// Replies to JetStream API calls and requests.
	inbox = "_INBOX.>"
	// The runtime's max-deliveries watcher dead-letters what it consumes.
	maxDeliveries = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>"
)

// perms allows publishing on publish and subscribing on subscribe.
func perms(publish []string, subscribe ...string) *server.Permissions {
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: publish},
		Subscribe: &server.SubjectPermission{Allow: subscribe},
	}
}

// pub flattens subjects and subject groups, adding what every service may
// publish: account info (the KV and object-store clients ask for it) and
// the configuration of every stream (/readyz checks they exist).
func pub(items ...any) []string {
	var out []string
	for _, it := range items {
		switch v := it.(type) {
		case string:
			out = append(out, v)
		case []string:
			out = append(out, v...)
		default:
			panic("natsconn: pub takes strings and string slices")
		}
	}
	out = append(out, "$JS.API.INFO")
	for _, s := range schemas.Streams {
		out = append(out, "$JS.API.STREAM.INFO."+s.Name)
	}
	return out
}

// consumer is what a processor needs on its own durable: declare it,
// inspect it, pull from it and ack its messages.
func consumer(stream, durable string) []string {
	sd := stream + "." + durable
	return []string{
		"$JS.API.CONSUMER.CREATE." + sd, "$JS.API.CONSUMER.CREATE." + sd + ".>",
		"$JS.API.CONSUMER.INFO." + sd, "$JS.API.CONSUMER.MSG.NEXT." + sd, "$JS.ACK." + sd + ".>",
	}
}

// bucket is full control of one KV ("KV") or object store ("OBJ") bucket.
func bucket(kind, name string) []string {
	stream := kind + "_" + name
	data := "$KV." + name + ".>"
	if kind == "OBJ" {
		data = "$O." + name + ".>"
	}
	return []string{"$JS.API.*.*." + stream, "$JS.API.*.*." + stream + ".>", "$JS.API.*.*.*." + stream + ".>", data, "$JS.FC." + stream + ".>"}
}

// ProcessorPermissions are those of a processor shaped like
// processors/example (and made by `maria new processor`): its durable on
// MARIA_IN, the subjects it publishes (answers, dead letters), its own KV
// bucket and its claims; nothing else.
func ProcessorPermissions(name, durable, kvBucket string) *server.Permissions {
	return perms(pub(consumer(schemas.StreamIn, durable),
		"$JS.API.STREAM.MSG.GET.MARIA_IN", "maria.out.>", "maria.dlq.>",
		bucket("KV", kvBucket), claimant(name)),
		inbox, maxDeliveries)
}

// claimant may announce claims (schemas/claims.go) in the AI's bucket:
// bind it and write its own keys, no one else's.
func claimant(processor string) []string {
	return []string{"$JS.API.STREAM.INFO.KV_" + schemas.ClaimsBucket, "$KV." + schemas.ClaimsBucket + "." + processor + ".>"}
}

// answerOnce lets a request server answer each request it receives once,
// within a minute.
func answerOnce() *server.ResponsePermission {
	return &server.ResponsePermission{MaxMsgs: 1, Expires: time.Minute}
}
