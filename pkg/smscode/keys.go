package smscode

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// Keys derives the _id of SMS state documents from phone numbers and
// client addresses with a server key: the database holds neither in clear,
// and nobody without the key can tell which number a document is about.
type Keys struct{ key []byte }

// NewKeys returns keys derived with key.
func NewKeys(key []byte) Keys { return Keys{key: key} }

// Phone is the key of a mainland number's SMS state.
func (k Keys) Phone(number string) string { return "phone:" + k.hash("phone", number) }

// Client is the key of a client's send counter (its IP address, or the
// caller it stands for).
func (k Keys) Client(client string) string { return "client:" + k.hash("client", client) }

// Ticket is the key recording a used captcha ticket.
func (k Keys) Ticket(ticket string) string { return "ticket:" + k.hash("ticket", ticket) }

// Global is the key of the deployment's send counter.
const Global = "global"

func (k Keys) hash(kind, value string) string {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(kind + "\x00" + value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
