package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// The code a send stores lives SMS_CODE_TTL from the send, as the answer's
// expiresIn says: not the cooldown, not a fixed five minutes.
func TestTheStoredCodeLivesSMSCodeTTL(t *testing.T) {
	for _, ttl := range []time.Duration{5 * time.Minute, 10 * time.Minute} {
		t.Run(ttl.String(), func(t *testing.T) {
			env := functest.New(t)
			env.Vars["SMS_CODE_TTL"] = ttl.String()
			a := send(sendSMS(env), number).Expect(t, 200, "OK")
			if a.Num("expiresIn") != ttl.Seconds() {
				t.Fatalf("expiresIn %v, want %v", a.Get("expiresIn"), ttl.Seconds())
			}
			code := env.PhoneSMS(number).Code
			if code == nil {
				t.Fatal("no code stored")
			}
			if got := code.ExpiresAt.Sub(code.SentAt); got != ttl {
				t.Fatalf("the stored code lives %v, want %v", got, ttl)
			}
			if d := code.SentAt.Sub(env.Clock.Now()); d > time.Millisecond || d < -time.Millisecond {
				t.Fatalf("the code is stamped %v, the send was at %v", code.SentAt, env.Clock.Now())
			}
		})
	}
}

// The send records are anti-abuse records, not account data: they are
// kept under keys that hold no phone number, client address or openid in
// clear, and no document holds one.
func TestSendRecordsHoldNoNumberOrAddressInClear(t *testing.T) {
	env := functest.New(t)
	f := sendSMS(env)
	send(f, number).Expect(t, 200, "OK")
	fromAddress(f, "240e:3b0:1:2::1", "13900139000").Expect(t, 200, "OK")
	f.Direct(map[string]any{"phone": "13700137000", "userInfo": map[string]any{"appId": functest.AppID, "openId": "o-sender"}}).Expect(t, 0, "OK")
	f.Direct(map[string]any{"phone": "13600136000"}).Expect(t, 0, "OK")

	cursor, err := env.Store.Database().Collection("sms").Find(t.Context(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []bson.M
	if err := cursor.All(t.Context(), &docs); err != nil {
		t.Fatal(err)
	}
	if len(docs) < 8 {
		t.Fatalf("%d send records, want at least the four phones, three clients and the deployment's", len(docs))
	}
	dump, _ := json.Marshal(docs)
	for _, clear := range []string{number, "13900139000", "13700137000", "13600136000", functest.ClientIPAddr, "240e:3b0", "o-sender", "untrusted"} {
		if strings.Contains(string(dump), clear) {
			t.Errorf("the send records hold %q in clear: %s", clear, dump)
		}
	}
}
