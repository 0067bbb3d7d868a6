package main

import (
	"context"
	"encoding/json"

	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/token"
)

// jwksCacheControl lets verifiers and CDNs keep the key set five minutes:
// a key is added to JWT_SIGNING_KEYS at least that long before it signs
// (README, "Rotating the signing keys").
const jwksCacheControl = "public, max-age=300"

// jwksDocument is the answer of GET /token/jwks: the public keys of
// JWT_SIGNING_KEYS as a JWK Set, the whole body, since JOSE libraries
// fetch the URL and read the set from it; empty for HS256, whose key is
// secret.
func jwksDocument(issuer *token.Issuer) (adapter.Document, error) {
	set := issuer.JWKS()
	body, err := json.Marshal(set)
	if err != nil {
		return adapter.Document{}, err
	}
	return adapter.Document{Body: body, ContentType: "application/json", CacheControl: jwksCacheControl, Data: set}, nil
}

// publishKeys answers the JWK Set, without a database round trip; a
// direct invocation (action jwks) gets it as the envelope's data.
func (h *handler) publishKeys(_ context.Context, req *adapter.Request) (any, error) {
	if err := req.Fields.Only(); err != nil {
		return nil, err
	}
	return h.jwks, nil
}
