package main

import (
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
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
