// Package store keeps the auth functions' state in MongoDB and speaks the
// domain: accounts with their sessions and security events, identity
// claims, the audit trail, SMS state and the WeChat access token. Callers
// never see the driver; they get the records of this package and the
// errors of errors.go.
//
// # Every command names its document by _id
//
// Each query, update and delete the functions send has _id in its filter,
// and the ones of the everyday paths (send-sms, phone-login, wx-login, GET
// /profile, logout) have nothing else: it is a primary-key lookup on any
// MongoDB, a cluster sharded on _id included, and the only filter the
// embedded FerretDB v1 answers without reading the whole collection. The
// cost of a request does not grow with the number of accounts. So:
//
//   - one account per phone, openid and unionid is held by claim documents
//     whose _id is the identity, created by insert (identities.go), not by
//     unique secondary indexes, which a sharded collection cannot enforce;
//   - sessions live inside their account's document (sessions.go), so
//     checking a token and reading the account is one round trip;
//   - SMS sends, codes and counters are documents keyed by a keyed hash of
//     the phone or client (sms.go).
//
// # Atomicity
//
// Every step that must have exactly one winner under concurrency is one
// command on one document, which MongoDB applies atomically: an insert of a
// unique _id (a claim), a conditional update (a refresh-token rotation, an
// unlink), a findAndModify (taking a code), $push and $inc (recording a
// send). No step needs a transaction. The embedded database keeps the same
// guarantee by running write commands one at a time (package embeddeddb).
//
// # Events and the audit trail
//
// A change of an account's ways to log in, its creation and deletion, a
// login, and the end of its sessions each record an event (events.go):
// in the account's own document, by the very command that makes the
// change, so the account never shows a change without its event; and,
// all but logins, in the insert-only audit collection (audit.go), which
// operators read. Without transactions the audit entry and the change are
// two writes, so the entry is written first: a change that then fails (a
// conditional update that lost a race, a crash) leaves an entry of an
// attempt, and the trail may say more than happened, never less, as a
// claim may say more than its account. Every event is stamped with the
// origin (client, operator) the request's ctx carries.
//
// # Expiry
//
// Short-lived records carry expiresAt and every read checks it. TTL indexes
// only keep storage small on servers that have them; correctness never
// depends on them, nor on partial indexes or transactions.
package store
