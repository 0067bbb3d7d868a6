package localscf_test

import (
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/mongotest"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// TestALoginDoesNotLinkToAnAccountThatLostItsNumber orders a phone-login
// with a loginCode against the number's owner changing it. Bob, the
// number's new owner, logs in with it and his WeChat: the look finds the
// number held by Alice's account, which has no WeChat, so the login links
// Bob's WeChat to it. Before that link's update applies, Alice moves her
// account to another number. The link then must not apply: the account no
// longer holds what Bob proved, and Bob's WeChat in Alice's account would
// be Bob's key to it. Bob gets an account of his own.
func TestALoginDoesNotLinkToAnAccountThatLostItsNumber(t *testing.T) {
	uri, db := mongotest.Database(t)
	s := newStackOn(t, uri, db, "SMS_COOLDOWN=1s")
	const recycled, alicesNew = "13800138000", "13900139000"
	s.call(t, "POST", "/send-sms", `{"phone":"`+recycled+`"}`, "").expect(t, 200, "OK")
	alice := s.call(t, "POST", "/phone-login", `{"phone":"`+recycled+`","code":"`+s.sms.LastCodeFor(recycled)+`"}`, "").expect(t, 200, "OK")
	time.Sleep(1100 * time.Millisecond) // the cooldown
	s.call(t, "POST", "/send-sms", `{"phone":"`+recycled+`"}`, "").expect(t, 200, "OK")
	bobsCode := s.sms.LastCodeFor(recycled)

	reached, release := mongotest.HoldNextWrite(t, db, func(command, coll string) bool { return command == "findAndModify" && coll == "users" })
	done := make(chan reply, 1)
	go func() {
		done <- s.call(t, "POST", "/phone-login", `{"phone":"`+recycled+`","code":"`+bobsCode+`","loginCode":"`+
			s.sim.NewLoginCode(wechatsim.Identity{OpenID: "o-bob"})+`"}`, "")
	}()
	<-reached // Bob's link, about to add his WeChat to Alice's account
	s.call(t, "POST", "/send-sms", `{"phone":"`+alicesNew+`"}`, "").expect(t, 200, "OK")
	s.call(t, "POST", "/profile/phone", `{"phone":"`+alicesNew+`","code":"`+s.sms.LastCodeFor(alicesNew)+`"}`, alice.str("accessToken")).expect(t, 200, "OK")
	release()
	bob := (<-done).expect(t, 200, "OK")
	bobUser, _ := bob.Data["user"].(map[string]any)
	aliceUser, _ := alice.Data["user"].(map[string]any)
	if bobUser["id"] == aliceUser["id"] || bobUser["phone"] != recycled {
		t.Fatalf("Bob's login: %v, Alice's account %v", bobUser, aliceUser["id"])
	}
	after := s.call(t, "GET", "/profile", "", alice.str("accessToken")).expect(t, 200, "OK")
	if u, _ := after.Data["user"].(map[string]any); u["wechatBound"] != false || u["phone"] != alicesNew {
		t.Fatalf("Alice's account after the race: %v", u)
	}
}
