package phone_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/wxauth/scf-auth/pkg/phone"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "13800138000", "13800138000"},
		{"plus prefix", "+8613800138000", "13800138000"},
		{"bare prefix", "8613800138000", "13800138000"},
		{"spaces and hyphens", "+86 138-0013-8000", "13800138000"},
		{"surrounding spaces", " 19912345678 ", "19912345678"},
		{"second digit 2", "12800138000", ""},
		{"second digit 0", "10800138000", ""},
		{"too short", "1380013800", ""},
		{"too long", "138001380001", ""},
		{"other country", "+85261234567", ""},
		{"plus in middle", "138+0013800", ""},
		{"letters", "1380013800a", ""},
		{"full-width digits", "１３８００１３８０００", ""},
		{"empty", "", ""},
		{"landline", "02012345678", ""},
		{"86 prefix without plus on short number", "8613800", ""},
		{"hostile length", "1380013800013800138000138001380000", ""},
		{"newline", "13800138000\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := phone.Normalize(tt.in)
			if tt.want == "" {
				if !errors.Is(err, phone.ErrInvalid) {
					t.Fatalf("Normalize(%q) = %q, %v; want ErrInvalid", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{"13800138000": "138****8000", "123": "****", "85261234567": "852****4567"} {
		if got := phone.Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func ExampleNormalize() {
	n, err := phone.Normalize("+86 138-0013-8000")
	fmt.Println(n, err, phone.Mask(n))
	// Output: 13800138000 <nil> 138****8000
}
