package main

import (
	"fmt"
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// BenchmarkSendSMS sends codes to fresh numbers through the public entry,
// against the Tencent Cloud SMS fake; it reports database round trips.
func BenchmarkSendSMS(b *testing.B) {
	env := functest.New(b)
	env.Vars["SMS_IP_HOURLY_LIMIT"] = "1000000"
	f := sendSMS(env)
	trips := 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a := f.Post("/send-sms", fmt.Sprintf(`{"phone":"139%08d"}`, i), "")
		if a.Code != "OK" {
			b.Fatal(a.Raw)
		}
		trips += a.RoundTrips
	}
	b.ReportMetric(float64(trips)/float64(b.N), "roundtrips/op")
}
