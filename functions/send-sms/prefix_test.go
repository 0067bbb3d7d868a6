package main

import (
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// A mainland-looking number behind another country's prefix is no
// mainland number: INVALID_PHONE, by HTTP and by direct invocation, and
// nothing is sent or counted for the mainland number.
func TestAForeignPrefixIsAnInvalidPhone(t *testing.T) {
	env := functest.New(t)
	f := sendSMS(env)
	for _, raw := range functest.ForeignPrefixed {
		t.Run(raw, func(t *testing.T) {
			send(f, raw).Expect(t, 400, "INVALID_PHONE")
			f.Direct(map[string]any{"phone": raw}).Expect(t, 0, "INVALID_PHONE")
		})
	}
	if n := len(env.SMS.Messages()); n != 0 {
		t.Fatalf("%d SMS sent to foreign-prefixed numbers", n)
	}
	if sends := env.PhoneSMS(number).Sends; len(sends) != 0 {
		t.Fatalf("the mainland number's sends were counted: %v", sends)
	}
	send(f, number).Expect(t, 200, "OK")
}
