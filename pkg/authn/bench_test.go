package authn_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/authn"
	"github.com/wxauth/scf-auth/pkg/token"
	"github.com/wxauth/scf-auth/pkg/token/tokentest"
)

// BenchmarkAuthenticate is the cost of authenticating one function URL
// event by its token's signature and expiry, per algorithm: parsing the
// event, the JWT and the signature check, with the keys in memory.
func BenchmarkAuthenticate(b *testing.B) {
	now := time.Now()
	clock := func() time.Time { return now }
	secret := []byte("bench-secret-0123456789abcdef-0123456789")
	for _, alg := range []token.Alg{token.HS256, token.ES256, token.EdDSA} {
		b.Run(string(alg), func(b *testing.B) {
			opts := authn.Options{Secret: secret, Now: clock}
			var signOpts []token.Option
			if alg != token.HS256 {
				pem, _ := tokentest.PEM(b, alg)
				keys, err := token.ParseSigningKeys(alg, pem)
				if err != nil {
					b.Fatal(err)
				}
				signOpts = append(signOpts, token.WithSigningKeys(keys))
				issuer := token.NewIssuer(secret, "scf-auth", 2*time.Hour, clock, signOpts...)
				opts = authn.Options{JWKS: mustJSON(b, issuer.JWKS()), Now: clock}
			}
			access, err := token.NewIssuer(secret, "scf-auth", 2*time.Hour, clock, signOpts...).Sign("665f1c2e9b1e8a3d4c5b6a79", "s1", now)
			if err != nil {
				b.Fatal(err)
			}
			auth, err := authn.New(opts)
			if err != nil {
				b.Fatal(err)
			}
			event := mustJSON(b, map[string]any{
				"httpMethod": "GET", "path": "/orders", "body": "",
				"headers": map[string]string{"authorization": "Bearer " + access, "x-scf-remote-addr": "203.0.113.9"},
			})
			b.ReportAllocs()
			for b.Loop() {
				if _, err := auth.Authenticate(b.Context(), event); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func mustJSON(b testing.TB, v any) []byte {
	out, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return out
}
