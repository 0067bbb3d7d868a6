package main

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// A sign-up whose write applied but whose answer was lost leaves a whole
// account or claims the next login settles: one account with both
// identities, and claims and accounts agree.
func TestSignUpWhoseReplyWasLost(t *testing.T) {
	for _, collection := range []string{"users", "identities"} {
		t.Run(collection, func(t *testing.T) {
			env := functest.New(t)
			f := pnLogin(env)
			env.LoseNextReply("insert", collection)
			tap(env, f, "o-lost", number).Expect(t, 503, "SERVICE_UNAVAILABLE")
			env.CheckIdentities(true)
			env.Clock.Advance(time.Minute)
			a := tap(env, f, "o-lost", number).Expect(t, 200, "OK")
			if a.Str("user.phone") != number || a.Get("user.wechatBound") != true {
				t.Fatalf("next login: %s", a.Raw)
			}
			if n, _ := env.Store.CountUsers(t.Context(), bson.D{}); n != 1 {
				t.Fatalf("%d accounts for one person", n)
			}
			env.CheckIdentities(false)
		})
	}
}
