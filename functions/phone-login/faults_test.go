package main

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// A sign-up whose write applied but whose answer was lost (a timeout, a
// failover) leaves a whole account, or a claim the next login settles:
// either way the next login lands in one account, and claims and accounts
// agree.
func TestSignUpWhoseReplyWasLost(t *testing.T) {
	for _, collection := range []string{"users", "identities"} {
		t.Run(collection, func(t *testing.T) {
			env := functest.New(t)
			f := phoneLogin(env)
			env.SeedCode(number, "111111")
			env.LoseNextReply("insert", collection)
			login(f, number, "111111").Expect(t, 503, "SERVICE_UNAVAILABLE")
			env.CheckIdentities(true)
			env.Clock.Advance(time.Minute) // the request that was cut off is long gone
			env.SeedCode(number, "222222")
			a := login(f, number, "222222").Expect(t, 200, "OK")
			if collection == "users" && a.Get("isNewUser") != false {
				t.Fatalf("the account whose creation answered no reply was made again: %s", a.Raw)
			}
			if n, _ := env.Store.CountUsers(t.Context(), bson.D{{Key: "phone", Value: number}}); n != 1 {
				t.Fatalf("%d accounts with the number", n)
			}
			env.CheckIdentities(false)
		})
	}
}

// loginAgainstAnUnbind runs an SMS login that comes with another app's
// loginCode, holds it as it goes to claim the new app's openid, runs
// meanwhile (given the same login, to make again with another code), then
// unbinds the phone by the account's update alone and lets the login go
// on. It returns the login's answer.
func loginAgainstAnUnbind(t *testing.T, env *functest.Env, acct *functest.Account, meanwhile func(login func(code string) *functest.Answer)) *functest.Answer {
	t.Helper()
	f := phoneLogin(env)
	login := func(code string) *functest.Answer {
		return f.Post("/phone-login", functest.Body("phone", number, "code", code, "appId", functest.SecondMiniProgram,
			"loginCode", env.WeChat.NewLoginCodeFor(functest.SecondMiniProgram, wechatsim.Identity{OpenID: "o-2", UnionID: "u-1"})), "")
	}
	env.SeedCode(number, "123456")
	aboutToClaim, release := env.HoldNextWrite("insert", "identities")
	var a *functest.Answer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a = login("123456")
	}()
	<-aboutToClaim
	meanwhile(login)
	u := env.User(acct.User.ID)
	if _, err := env.Store.ChangeIdentities(context.Background(), u.ID, store.Change{Remove: []store.Identity{store.PhoneIdentity("86", number)}, Rev: u.Rev}, env.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	release()
	wg.Wait()
	return a
}

// signUpWithPhoneAndWeChat is the account both tests log into.
func signUpWithPhoneAndWeChat(env *functest.Env) *functest.Account {
	return env.SignUp(func(u *store.User) {
		u.CountryCode, u.Phone = "86", number
		u.WeChat = functest.WeChatOf("o-1", "u-1")
	})
}

// TestTheAnswerShowsThePhoneTheLoginProved orders an SMS login that comes
// with another app's loginCode against an unbind of the phone. The login
// stores its session in the phone's account, then goes to add the new
// app's openid; meanwhile the phone is unbound. The openid then waits for
// another login, and the answer is the account as the login found it, its
// phone with it, not the account without the phone the login proved.
func TestTheAnswerShowsThePhoneTheLoginProved(t *testing.T) {
	env := functest.New(t)
	acct := signUpWithPhoneAndWeChat(env)
	a := loginAgainstAnUnbind(t, env, acct, func(func(string) *functest.Answer) {})
	a.Expect(t, 200, "OK")
	if a.Str("user.id") != acct.User.ID.Hex() || a.Str("user.phone") != number {
		t.Fatalf("answer %s, want account %s with the phone the login proved", a.Raw, acct.User.ID.Hex())
	}
	if u := env.User(acct.User.ID); u.HasPhone() || u.OpenIDIn(functest.SecondMiniProgram) != "" {
		t.Fatalf("account %+v, want it without the phone, and the openid not added without it", u)
	}
}

// TestALoginThatLosesItsLinkStillShowsThePhone orders the same login
// against the same login made again (a retry), which adds the openid
// first, and then the unbind of the phone. The first login's update then
// fails; the account lists the openid, but no longer the phone, so the
// link is not done, and the answer is the account as the login found it,
// with the number it proved.
func TestALoginThatLosesItsLinkStillShowsThePhone(t *testing.T) {
	env := functest.New(t)
	acct := signUpWithPhoneAndWeChat(env)
	a := loginAgainstAnUnbind(t, env, acct, func(login func(string) *functest.Answer) {
		env.SeedCode(number, "654321")
		login("654321").Expect(t, 200, "OK")
	})
	a.Expect(t, 200, "OK")
	if a.Str("user.id") != acct.User.ID.Hex() || a.Str("user.phone") != number {
		t.Fatalf("answer %s, want account %s with the phone the login proved", a.Raw, acct.User.ID.Hex())
	}
	env.CheckIdentities(true)
}
