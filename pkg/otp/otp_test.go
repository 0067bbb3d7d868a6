package otp_test

import (
	"testing"

	"github.com/wxauth/scf-auth/pkg/otp"
)

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		c, err := otp.Generate()
		if err != nil || !otp.WellFormed(c) {
			t.Fatalf("Generate = %q, %v", c, err)
		}
		seen[c] = true
	}
	if len(seen) < 190 {
		t.Fatalf("only %d distinct codes in 200: not random", len(seen))
	}
}

func TestHashBindsPhoneNonceAndCode(t *testing.T) {
	h := otp.NewHasher([]byte("key"))
	want := h.Hash("13800138000", "n1", "123456")
	if !h.Matches("13800138000", "n1", "123456", want) {
		t.Fatal("right code refused")
	}
	for _, c := range [][3]string{
		{"13800138001", "n1", "123456"}, {"13800138000", "n2", "123456"}, {"13800138000", "n1", "123457"},
	} {
		if h.Matches(c[0], c[1], c[2], want) {
			t.Errorf("%v matched", c)
		}
	}
	if otp.NewHasher([]byte("other")).Matches("13800138000", "n1", "123456", want) {
		t.Fatal("hash does not depend on the key")
	}
}

func TestWellFormed(t *testing.T) {
	for s, want := range map[string]bool{"012345": true, "12345": false, "1234567": false, "12345a": false, "１２３４５６": false, "": false} {
		if otp.WellFormed(s) != want {
			t.Errorf("WellFormed(%q) != %v", s, want)
		}
	}
}
