package main

import (
	"fmt"
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// BenchmarkPhoneLogin logs in returning users with fresh codes.
func BenchmarkPhoneLogin(b *testing.B) {
	env := functest.New(b)
	f := phoneLogin(env)
	trips := 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		phone := fmt.Sprintf("139%08d", i%50)
		env.SeedCode(phone, "123456")
		b.StartTimer()
		a := login(f, phone, "123456")
		if a.Code != "OK" {
			b.Fatal(a.Raw)
		}
		trips += a.RoundTrips
	}
	b.ReportMetric(float64(trips)/float64(b.N), "roundtrips/op")
}
