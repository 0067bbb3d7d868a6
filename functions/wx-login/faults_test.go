package main

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// A sign-up whose write applied but whose answer was lost, at the account
// or at either claim (openid, unionid), leaves a whole account or claims
// the next login settles: one account for the person, and claims and
// accounts agree.
func TestSignUpWhoseReplyWasLost(t *testing.T) {
	for _, lost := range []struct {
		name, collection string
		nth              int
	}{{"account", "users", 1}, {"first claim", "identities", 1}, {"second claim", "identities", 2}} {
		t.Run(lost.name, func(t *testing.T) {
			env := functest.New(t)
			f := wxLogin(env)
			id := wechatsim.Identity{OpenID: "o-lost", UnionID: "u-lost"}
			env.LoseNthReply("insert", lost.collection, lost.nth)
			login(env, f, id, "nickname", "丢失").Expect(t, 503, "SERVICE_UNAVAILABLE")
			env.CheckIdentities(true)
			env.Clock.Advance(time.Minute)
			a := login(env, f, id).Expect(t, 200, "OK")
			if n, _ := env.Store.CountUsers(t.Context(), bson.D{}); n != 1 {
				t.Fatalf("%d accounts for one person: %s", n, a.Raw)
			}
			env.CheckIdentities(false)
		})
	}
}
