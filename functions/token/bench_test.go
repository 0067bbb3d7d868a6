package main

import (
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/token"
	"github.com/wxauth/scf-auth/pkg/token/tokentest"
)

// BenchmarkRefresh rotates one session's refresh token again and again.
func BenchmarkRefresh(b *testing.B) {
	env := functest.New(b)
	f := tokenFn(env)
	rt := env.SignUp(nil).RefreshToken
	trips := 0
	b.ReportAllocs()
	for b.Loop() {
		a := refresh(f, rt)
		if a.Code != "OK" {
			b.Fatal(a.Raw)
		}
		rt = a.Str("refreshToken")
		trips += a.RoundTrips
	}
	b.ReportMetric(float64(trips)/float64(b.N), "roundtrips/op")
}

// BenchmarkIntrospect introspects one live token over HTTP again and again.
func BenchmarkIntrospect(b *testing.B) {
	env := functest.New(b)
	env.Vars["INTROSPECT_TOKEN"] = introspectToken
	f := tokenFn(env)
	access := env.SignUp(nil).AccessToken
	trips := 0
	b.ReportAllocs()
	for b.Loop() {
		a := introspect(f, access)
		if a.Get("active") != true {
			b.Fatal(a.Raw)
		}
		trips += a.RoundTrips
	}
	b.ReportMetric(float64(trips)/float64(b.N), "roundtrips/op")
}

// BenchmarkJWKS answers GET /token/jwks of an ES256 deployment with two keys.
func BenchmarkJWKS(b *testing.B) {
	env := functest.New(b)
	first, _ := tokentest.PEM(b, token.ES256)
	second, _ := tokentest.PEM(b, token.ES256)
	asymmetric(env, token.ES256, first, second)
	f := tokenFn(env)
	trips := 0
	b.ReportAllocs()
	for b.Loop() {
		a := f.HTTP(functest.Request{Method: "GET", Path: "/token/jwks", FunctionURL: true})
		if a.Status != 200 {
			b.Fatal(a.Raw)
		}
		trips += a.RoundTrips
	}
	b.ReportMetric(float64(trips)/float64(b.N), "roundtrips/op")
}
