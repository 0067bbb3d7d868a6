package main

import (
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// Tries in the moment after a code was taken (the window in which a
// second account linking the same number is told ACCOUNT_CONFLICT, not
// CODE_INVALID) count against the code's SMS_MAX_ATTEMPTS like any
// other: once they are used up, not even the right code proves the
// number.
func TestTriesJustAfterALinkCountAgainstTheCodesAttempts(t *testing.T) {
	env := functest.New(t)
	env.Vars["SMS_MAX_ATTEMPTS"] = "3"
	f := profile(env)
	first := env.SignUp(wechatOnly("o-1"))
	second := env.SignUp(wechatOnly("o-2"))
	env.SeedCode(phoneA, "123456")
	bindPhone(f, first.AccessToken, phoneA, "123456").Expect(t, 200, "OK") // the first judged try
	bindPhone(f, second.AccessToken, phoneA, "000000").Expect(t, 401, "CODE_INVALID")
	bindPhone(f, second.AccessToken, phoneA, "000001").Expect(t, 401, "CODE_INVALID")
	// Three tries were judged: the fourth is not, right or wrong.
	bindPhone(f, second.AccessToken, phoneA, "123456").Expect(t, 401, "CODE_INVALID")
	if env.User(second.User.ID).HasPhone() {
		t.Fatal("the second account got the number")
	}
}
