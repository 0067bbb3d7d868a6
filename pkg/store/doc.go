// Package store keeps the auth functions' state in MongoDB and speaks the
// domain: users, SMS codes, SMS sends, sessions and the WeChat access token.
// Callers never see the driver; they get the records of this package and the
// errors of errors.go.
//
// # Exclusive steps
//
// Every step that must have exactly one winner under concurrency (a code is
// used once, a refresh token is rotated once, one SMS per cooldown, one
// instance fetches the WeChat token) is an insert of a unique _id or a
// delete of one _id whose count says who won. MongoDB makes both atomic, and
// so does every MongoDB-compatible server tested here, including the embedded
// FerretDB v1 used by the tests and the local gateway, which applies
// findAndModify, $inc and conditional updates as read-then-write and so lets
// several concurrent callers "win" them. Identities (phone, openid, unionid)
// are kept unique by unique indexes, which both enforce at insert.
//
// # Expiry
//
// Short-lived records carry expiresAt and every query checks it. TTL indexes
// only keep storage small on servers that have them; correctness never
// depends on them, nor on partial indexes or transactions.
package store
