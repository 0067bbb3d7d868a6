package main

import (
	"sync"
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// The identity changes whose account update applied but whose answer
// was lost (a timeout, a failover) read the account to learn what
// happened, and finish: the change is done, and claims and accounts agree.
func TestIdentityChangesWhoseReplyWasLost(t *testing.T) {
	tests := []struct {
		name   string
		signUp func(*store.User)
		change func(env *functest.Env, f *functest.Function, token string) *functest.Answer
		check  func(t *testing.T, env *functest.Env, u *store.User)
	}{
		{"link a phone", wechatOnly("o-1"), func(env *functest.Env, f *functest.Function, token string) *functest.Answer {
			env.SeedCode(phoneA, "123456")
			return bindPhone(f, token, phoneA, "123456")
		}, func(t *testing.T, env *functest.Env, u *store.User) {
			if u.Phone != phoneA {
				t.Fatalf("phone %q, want %s", u.Phone, phoneA)
			}
		}},
		{"change the number", phoneOnly(phoneA), func(env *functest.Env, f *functest.Function, token string) *functest.Answer {
			env.SeedCode(phoneB, "123456")
			return bindPhone(f, token, phoneB, "123456")
		}, func(t *testing.T, env *functest.Env, u *store.User) {
			if u.Phone != phoneB || env.Holder(store.PhoneIdentity("86", phoneA)) != nil {
				t.Fatalf("phone %q, old number's claim %v: want the new number and the old one free", u.Phone, env.Holder(store.PhoneIdentity("86", phoneA)))
			}
		}},
		{"link WeChat", phoneOnly(phoneA), func(env *functest.Env, f *functest.Function, token string) *functest.Answer {
			return f.Post("/profile/wechat", functest.Body("loginCode", env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-new", UnionID: "u-new"})), token)
		}, func(t *testing.T, env *functest.Env, u *store.User) {
			if !u.Holds(functest.OpenID("o-new")) || u.UnionID() != "u-new" {
				t.Fatalf("WeChat %+v, want o-new with u-new", u.WeChat)
			}
		}},
		{"unlink the phone", func(u *store.User) { phoneOnly(phoneA)(u); wechatOnly("o-1")(u) }, func(env *functest.Env, f *functest.Function, token string) *functest.Answer {
			return f.Do("DELETE", "/profile/phone", "", token)
		}, func(t *testing.T, env *functest.Env, u *store.User) {
			if u.HasPhone() || env.Holder(store.PhoneIdentity("86", phoneA)) != nil {
				t.Fatal("the phone is still bound, or its claim is left")
			}
		}},
		{"unlink WeChat", func(u *store.User) { phoneOnly(phoneA)(u); u.WeChat = functest.WeChatOf("o-1", "u-1") }, func(env *functest.Env, f *functest.Function, token string) *functest.Answer {
			return f.Do("DELETE", "/profile/wechat", "", token)
		}, func(t *testing.T, env *functest.Env, u *store.User) {
			if u.HasWeChat() || env.Holder(functest.OpenID("o-1")) != nil || env.Holder(store.UnionIDIdentity("u-1")) != nil {
				t.Fatal("WeChat is still bound, or its claims are left")
			}
		}},
		{"delete the account", phoneOnly(phoneA), func(env *functest.Env, f *functest.Function, token string) *functest.Answer {
			return f.Do("DELETE", "/profile", "", token)
		}, func(t *testing.T, env *functest.Env, u *store.User) {
			if !u.IsDeleted() || env.Holder(store.PhoneIdentity("86", phoneA)) != nil {
				t.Fatal("the account is there, or its claim is left")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := functest.New(t)
			f := profile(env)
			acct := env.SignUp(tt.signUp)
			env.LoseNextReply("findAndModify", "users")
			tt.change(env, f, acct.AccessToken).Expect(t, 200, "OK")
			tt.check(t, env, env.User(acct.User.ID))
			env.CheckIdentities(false)
		})
	}
}

// TestUnlinkRacingARelinkKeepsTheClaim orders an unlink of WeChat against
// a re-link of the same WeChat user by the same account (a double tap, a
// client retry): the unlink removes it from the account and, before it
// releases the claim, the re-link takes the claim over and lists the
// identity again. The unlink's release names the lease it read, which the
// re-link has replaced: it misses, and the account keeps a claim for the
// identity it lists. The next wx-login of that person lands in it.
func TestUnlinkRacingARelinkKeepsTheClaim(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(func(u *store.User) { phoneOnly(phoneA)(u); wechatOnly("o-1")(u) })
	aboutToRelease, release := env.HoldNextWrite("delete", "identities")
	var unlink *functest.Answer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); unlink = f.Do("DELETE", "/profile/wechat", "", acct.AccessToken) }()
	<-aboutToRelease
	relink := f.Post("/profile/wechat", functest.Body("loginCode", env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-1"})), acct.AccessToken)
	release()
	wg.Wait()
	unlink.Expect(t, 200, "OK")
	relink.Expect(t, 200, "OK")
	if u := env.User(acct.User.ID); !u.Holds(functest.OpenID("o-1")) {
		t.Fatalf("the re-link, which came last, does not show: %+v", u.WeChat)
	}
	env.CheckIdentities(false)
}

// TestALinkThatGivesUpHandsBackWhatItTookOver orders three links. A link
// of a WeChat user (openid and unionid) to an account looks and finds both
// free; before it claims them, a second request links the same openid to
// the same account, and another account takes the unionid. The first then
// takes over the openid's claim (the account's own) and fails at the
// unionid: giving up, it hands the openid's claim back to the lease the
// account recorded, instead of releasing a claim the account lists.
func TestALinkThatGivesUpHandsBackWhatItTookOver(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(phoneOnly(phoneA))
	other := env.SignUp(phoneOnly(phoneB))
	aboutToClaim, release := env.HoldNextWrite("insert", "identities")
	var first *functest.Answer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		first = f.Post("/profile/wechat", functest.Body("loginCode", env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-1", UnionID: "u-1"})), acct.AccessToken)
	}()
	<-aboutToClaim
	f.Post("/profile/wechat", functest.Body("loginCode", env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-1"})), acct.AccessToken).Expect(t, 200, "OK")
	f.Post("/profile/wechat", functest.Body("appId", functest.SecondMiniProgram, "loginCode",
		env.WeChat.NewLoginCodeFor(functest.SecondMiniProgram, wechatsim.Identity{OpenID: "o-other", UnionID: "u-1"})), other.AccessToken).Expect(t, 200, "OK")
	release()
	wg.Wait()
	first.Expect(t, 200, "OK")
	if u := env.User(acct.User.ID); !u.Holds(functest.OpenID("o-1")) || u.UnionID() != "" {
		t.Fatalf("account WeChat %+v, want o-1 without the unionid another account holds", u.WeChat)
	}
	env.CheckIdentities(false)
}

// TestABindThatFailsHandsBackTheClaimItTookOver orders a double-submitted
// link of one WeChat user to one account. The first claims the openid and
// is about to add it to the account; the second finds the claim its
// account's own, takes it over, and its update fails before applying (the
// connection dropped). Giving up, the second hands the claim back to the
// first's lease instead of releasing it: the first's update then lists
// the openid under a claim that is there.
func TestABindThatFailsHandsBackTheClaimItTookOver(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(phoneOnly(phoneA))
	reached, release := env.HoldNextWrite("findAndModify", "users")
	var first *functest.Answer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		first = f.Post("/profile/wechat", functest.Body("loginCode", env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-1"})), acct.AccessToken)
	}()
	<-reached
	env.FailNextWrite("findAndModify", "users")
	f.Post("/profile/wechat", functest.Body("loginCode", env.WeChat.NewLoginCode(wechatsim.Identity{OpenID: "o-1"})), acct.AccessToken).Expect(t, 503, "SERVICE_UNAVAILABLE")
	release()
	wg.Wait()
	first.Expect(t, 200, "OK")
	env.CheckIdentities(false)
}

// TestALinkRacingAnUnlinkKeepsTheUnionIDWithItsOpenIDs orders a link of
// the WeChat of another app against an unlink of WeChat, on an account
// holding its mini-program's openid and the unionid. The link looks: the
// account has the unionid, so only the new app's openid is missing. Before
// it lists that openid, the unlink removes every WeChat identity. The link
// then must not list the openid alone (the person's unionid free, the next
// wx-login making them a second account): it sees the account changed and
// links the openid with the unionid.
func TestALinkRacingAnUnlinkKeepsTheUnionIDWithItsOpenIDs(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(func(u *store.User) {
		phoneOnly(phoneA)(u)
		u.WeChat = functest.WeChatOf("o-1", "u-1")
	})
	aboutToClaim, release := env.HoldNextWrite("insert", "identities")
	var link *functest.Answer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		link = f.Post("/profile/wechat", functest.Body("appId", functest.SecondMiniProgram, "loginCode",
			env.WeChat.NewLoginCodeFor(functest.SecondMiniProgram, wechatsim.Identity{OpenID: "o-2", UnionID: "u-1"})), acct.AccessToken)
	}()
	<-aboutToClaim
	f.Do("DELETE", "/profile/wechat", "", acct.AccessToken).Expect(t, 200, "OK")
	release()
	wg.Wait()
	link.Expect(t, 200, "OK")
	u := env.User(acct.User.ID)
	if u.OpenIDIn(functest.SecondMiniProgram) != "o-2" || u.UnionID() != "u-1" {
		t.Fatalf("account WeChat %+v, want the second app's openid with the unionid", u.WeChat)
	}
	env.CheckIdentities(false)
}
