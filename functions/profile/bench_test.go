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

// BenchmarkListSessions lists the caller's sessions and reads its security
// events: each one read of the account, which also checks the token.
func BenchmarkListSessions(b *testing.B) {
	env := functest.New(b)
	acct := env.SignUp(withPhone)
	for range 5 {
		env.LogIn(acct.User)
	}
	f := profile(env)
	trips := 0
	b.ReportAllocs()
	for b.Loop() {
		for _, path := range []string{"/profile/sessions", "/profile/security"} {
			a := f.Do("GET", path, "", acct.AccessToken)
			if a.Code != "OK" {
				b.Fatal(a.Raw)
			}
			trips += a.RoundTrips
		}
	}
	b.ReportMetric(float64(trips)/float64(2*b.N), "roundtrips/op")
}
