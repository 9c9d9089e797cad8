package schemas

import "strings"

// Per-person Odoo identities (README "Whose Odoo user"): a Slack user
// connects their own Odoo user with a personal API key, and the erp
// service runs their reads and confirmed writes as that user.

// SubjectERPIdentity is the erp service's request/reply endpoint for
// connecting, disconnecting and looking up a person's Odoo user. Bodies
// are ERPIdentity / ERPIdentityReply JSON (no envelope, no stream).
const SubjectERPIdentity = "maria.erp.identity"

// The "Connect your Odoo account" modal: its callback id and inputs. The
// key's action id starts with SecretInputPrefix: ingress never publishes
// such an input; it seals it and hands it to the erp service.
const (
	ERPConnectCallbackID = "maria_erp_connect"
	ERPConnectLoginBlock = "odoo_login"
	ERPConnectLoginInput = "login"
	ERPConnectKeyBlock   = "odoo_key"
	ERPConnectKeyInput   = SecretInputPrefix + "api_key"
	SecretInputPrefix    = "secret_"
)

// Buttons that open the connect modal or forget the key: in the App Home
// and under an answer the ERP refused because the asker is not connected.
const (
	ActionERPConnect    = "erp_connect"
	ActionERPDisconnect = "erp_disconnect"
)

// ERPKindNotConnected is the ERPReply / ERPResult Kind of a call the
// workspace's identity policy allows only to people who connected their
// own Odoo user.
const ERPKindNotConnected = "not_connected"

// IdentityVerb returns IdentityConnect or IdentityDisconnect when a
// `/maria` command's text asks for it, "" otherwise. Ingress adds the
// asker's email to a connect request (to suggest their Odoo login); the ai
// processor opens the form.
func IdentityVerb(text string) string {
	switch strings.ToLower(strings.Join(strings.Fields(text), " ")) {
	case "connect", "connect odoo", "login":
		return IdentityConnect
	case "disconnect", "disconnect odoo", "logout":
		return IdentityDisconnect
	}
	return ""
}

// AsksToConnect reports an event that opens the connect form: `/maria
// connect`, or a click on ActionERPConnect.
func AsksToConnect(e *Envelope) bool {
	switch e.Type {
	case TypeSlackCommand:
		c, err := DecodeData[SlackCommand](e)
		return err == nil && IdentityVerb(c.Text) == IdentityConnect
	case TypeSlackAction:
		a, err := DecodeData[SlackAction](e)
		return err == nil && a.ActionID == ActionERPConnect
	}
	return false
}

// Operations of ERPIdentity.
const (
	IdentityConnect    = "connect"
	IdentityDisconnect = "disconnect"
	IdentityStatus     = "status"
	IdentitySuggest    = "suggest"
)

// ERPIdentity asks the erp service about one Slack user's Odoo identity.
type ERPIdentity struct {
	Op   string `json:"op" jsonschema:"enum=connect,enum=disconnect,enum=status,enum=suggest"`
	Team string `json:"team"`
	User string `json:"user"`
	// Login and SealedKey (connect): the Odoo login and the API key sealed
	// by ingress with the shared keyring for ERPKeyAAD(team, user) — the
	// key is never on the wire in clear.
	Login     string `json:"login,omitempty"`
	SealedKey []byte `json:"sealed_key,omitempty"`
	// Email (suggest): the Slack profile's email, matched with res.users.
	Email string `json:"email,omitempty"`
}

// ERPIdentityReply answers an ERPIdentity. Error says why not, for the
// person to read; Kind is "refused" (bad key or login), "unavailable" or
// "internal".
type ERPIdentityReply struct {
	Connected bool   `json:"connected,omitempty"`
	Login     string `json:"login,omitempty"`
	Name      string `json:"name,omitempty"`
	UID       int64  `json:"uid,omitempty"`
	// Policy is the workspace's MARIA_ERP_IDENTITY_POLICY.
	Policy string `json:"policy,omitempty"`
	Error  string `json:"error,omitempty"`
	Kind   string `json:"kind,omitempty"`
}

// ERPKeyAAD binds a sealed API key to the Slack user it belongs to: a key
// sealed for one person does not open as another's.
func ERPKeyAAD(team, user string) []byte {
	return []byte("maria-erp-key\x00" + team + "\x00" + user)
}
