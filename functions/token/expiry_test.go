package main

import (
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// A session lives less than REFRESH_TOKEN_TTL from its last rotation: a
// millisecond before, its refresh token rotates; at that instant it and
// its access tokens are refused.
func TestASessionEndsExactlyAtItsExpiry(t *testing.T) {
	for _, tt := range []struct {
		name  string
		after time.Duration
		ok    bool
	}{
		{"a millisecond before", time.Hour - time.Millisecond, true},
		{"at its expiry", time.Hour, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := functest.New(t)
			env.Vars["REFRESH_TOKEN_TTL"] = "1h"
			// On a whole millisecond, as the store keeps times.
			env.Clock.Set(env.Clock.Now().Truncate(time.Millisecond).Add(time.Millisecond))
			f := tokenFn(env)
			acct := env.SignUp(nil)
			env.Clock.Advance(tt.after)
			if got := alive(t, env, acct.AccessToken); got != tt.ok {
				t.Fatalf("access token accepted: %v, want %v", got, tt.ok)
			}
			a := refresh(f, acct.RefreshToken)
			if tt.ok {
				a.Expect(t, 200, "OK")
			} else {
				a.Expect(t, 401, "REFRESH_TOKEN_INVALID")
			}
		})
	}
}
