package main

import (
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// BenchmarkGetProfile reads the caller's profile: the token check, the
// session and the user, the latter two read concurrently.
func BenchmarkGetProfile(b *testing.B) {
	env := functest.New(b)
	acct := env.SignUp(withPhone)
	f := profile(env)
	trips := 0
	b.ReportAllocs()
	for b.Loop() {
		a := f.Do("GET", "/profile", "", acct.AccessToken)
		if a.Code != "OK" {
			b.Fatal(a.Raw)
		}
		trips += a.RoundTrips
	}
	b.ReportMetric(float64(trips)/float64(b.N), "roundtrips/op")
}
