package main

import (
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// A sign-in spares the proof for less than REAUTH_WINDOW: a millisecond
// before the window ends a change goes ahead, at its end it needs a proof.
func TestTheReauthWindowEndsExactly(t *testing.T) {
	for _, tt := range []struct {
		name  string
		after time.Duration
		code  string
	}{
		{"a millisecond before its end", 5*time.Minute - time.Millisecond, "OK"},
		{"at its end", 5 * time.Minute, "REAUTH_REQUIRED"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := functest.New(t)
			env.Clock.Set(env.Clock.Now().Truncate(time.Millisecond).Add(time.Millisecond))
			f := profile(env)
			acct := env.SignUp(phoneAndWeChat(phoneA, "o-1", "u-1"))
			env.Clock.Advance(tt.after)
			if a := f.Do("DELETE", "/profile/wechat", "", acct.AccessToken); a.Code != tt.code {
				t.Fatalf("got %s, want %s: %s", a.Code, tt.code, a.Raw)
			}
		})
	}
}
