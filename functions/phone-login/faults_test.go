package main

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/functest"
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
