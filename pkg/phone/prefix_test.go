package phone_test

import (
	"errors"
	"testing"

	"github.com/wxauth/scf-auth/pkg/phone"
)

// Only "+86" and "86" are taken off a number: any other country's prefix
// before a mainland-looking number leaves no mainland number.
func TestAnotherCountrysPrefixIsInvalid(t *testing.T) {
	for _, in := range []string{
		"+44 13800138000", "+4413800138000", "+1 13800138000", "+852 13800138000", "+85213800138000",
		"0044 13800138000", "4413800138000", "+086 13800138000", "+86 86 13800138000", "0086 13800138000",
	} {
		if got, err := phone.Normalize(in); !errors.Is(err, phone.ErrInvalid) {
			t.Errorf("Normalize(%q) = %q, %v; want ErrInvalid", in, got, err)
		}
	}
}
