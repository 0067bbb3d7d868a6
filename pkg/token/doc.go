// Package token issues and strictly verifies access tokens (JWT) and
// defines the opaque refresh token: "<user>.<session>.<generation>.<secret>".
//
// Access tokens are signed with HS256 and JWT_SECRET by default, or with
// ES256 (P-256) or EdDSA (Ed25519) and the first key of JWT_SIGNING_KEYS;
// then every listed key verifies, each token names its key by kid (the
// key's RFC 7638 thumbprint), and the public keys are published as a JWK
// Set, so that other services verify tokens without holding a secret.
//
// Verification pins the algorithm, finds the key by kid in a Keyring of
// that algorithm only (a public key never serves as an HMAC secret, an EC
// key never verifies EdDSA, and "none" is never a method), requires an
// expiry, checks the issuer and uses an injected clock. A well-signed
// token past its expiry is ErrExpired; anything else wrong is ErrInvalid,
// so callers can tell "refresh" from "log in again".
package token
