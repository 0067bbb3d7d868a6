package adapter_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/wxauth/scf-auth/pkg/adapter"
)

// bodyOf is a JSON object of exactly n bytes.
func bodyOf(n int) string {
	const frame = `{"name":""}`
	return `{"name":"` + strings.Repeat("a", n-len(frame)) + `"}`
}

// A body of 16 KiB is accepted, plain or base64-encoded; one byte more is
// PAYLOAD_TOO_LARGE.
func TestTheBodyCapIsSixteenKiBExactly(t *testing.T) {
	for _, tt := range []struct {
		name   string
		size   int
		base64 bool
		code   string
	}{
		{"16 KiB", adapter.MaxBody, false, "OK"},
		{"16 KiB and a byte", adapter.MaxBody + 1, false, "PAYLOAD_TOO_LARGE"},
		{"16 KiB in base64", adapter.MaxBody, true, "OK"},
		{"16 KiB and a byte in base64", adapter.MaxBody + 1, true, "PAYLOAD_TOO_LARGE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := bodyOf(tt.size)
			if len(body) != tt.size {
				t.Fatalf("body of %d bytes, want %d", len(body), tt.size)
			}
			ev := httpEvent("POST", "/echo", body)
			if tt.base64 {
				ev = httpEvent("POST", "/echo", base64.StdEncoding.EncodeToString([]byte(body)), func(e map[string]any) { e["isBase64Encoded"] = true })
			}
			if a := invoke(t, newFunction(new(bytes.Buffer)), encode(t, ev)); a.Code != tt.code {
				t.Fatalf("got %d %s, want %s", a.Status, a.Code, tt.code)
			}
		})
	}
}
