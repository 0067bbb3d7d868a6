// Package token issues and strictly verifies access tokens (JWT, HS256) and
// defines the opaque refresh token: "<session>.<generation>.<secret>".
//
// Verification pins the method, requires an expiry, checks the issuer and
// uses an injected clock. A well-signed token past its expiry is ErrExpired;
// anything else wrong is ErrInvalid, so callers can tell "refresh" from
// "log in again".
package token
