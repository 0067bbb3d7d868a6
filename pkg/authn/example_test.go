package authn_test

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/authn"
	"github.com/wxauth/scf-auth/pkg/token"
)

// A team's function authenticates the caller of each event it receives:
// here a GET through its function URL with a token of the login.
func Example() {
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	jwks, accessToken := loginSignsFor("665f1c2e9b1e8a3d4c5b6a79", now)

	// At cold start, once. In production: JWKSURL, the login's GET /token/jwks.
	auth, err := authn.New(authn.Options{JWKS: jwks, Now: clock})
	if err != nil {
		panic(err)
	}

	// In the handler, for each event.
	event := []byte(`{"httpMethod":"GET","path":"/orders","headers":{"authorization":"Bearer ` + accessToken + `"}}`)
	caller, err := auth.Authenticate(context.Background(), event)
	fmt.Println(caller.UserID, err)

	// No token, or a bad one: the contract's code and HTTP status.
	_, err = auth.Authenticate(context.Background(), []byte(`{"httpMethod":"GET","path":"/orders","headers":{}}`))
	var refusal *apierror.Error
	errors.As(err, &refusal)
	fmt.Println(refusal.Code, refusal.Status(), refusal.Message())

	// Past its expiry: the client refreshes and tries again.
	now = now.Add(3 * time.Hour)
	_, err = auth.Authenticate(context.Background(), event)
	errors.As(err, &refusal)
	fmt.Println(refusal.Code)
	// Output:
	// 665f1c2e9b1e8a3d4c5b6a79 <nil>
	// UNAUTHORIZED 401 请先登录
	// TOKEN_EXPIRED
}

// loginSignsFor stands in for the login: an EdDSA deployment's JWK Set and
// an access token it issued to userID at now.
func loginSignsFor(userID string, now time.Time) (jwks []byte, accessToken string) {
	der, _ := x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
	keys, err := token.ParseSigningKeys(token.EdDSA, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	if err != nil {
		panic(err)
	}
	issuer := token.NewIssuer(nil, "scf-auth", 2*time.Hour, func() time.Time { return now }, token.WithSigningKeys(keys))
	accessToken, _ = issuer.Sign(userID, "session-1", now)
	jwks, _ = json.Marshal(issuer.JWKS())
	return jwks, accessToken
}
