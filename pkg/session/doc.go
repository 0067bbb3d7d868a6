// Package session issues sessions at login, authenticates access tokens
// against live sessions, rotates refresh tokens and ends sessions.
//
// A session is a record in its account's document; every access token
// names its session (sid) and is accepted only while that record is there,
// so logout, reuse detection and account deletion take effect at once, and
// checking a token costs the one read of the account a request needs
// anyway. Refresh tokens rotate at every use. Reusing a spent one revokes
// the whole session, except within a short grace window where concurrent
// refreshes of one token (a client racing itself) all get the same new
// pair.
package session
