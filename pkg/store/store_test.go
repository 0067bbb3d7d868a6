package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/mongotest"
	"github.com/wxauth/scf-auth/pkg/store"
)

func TestMain(m *testing.M) { mongotest.Main(m) }

var t0 = time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// concurrently runs f n times at once and returns how many returned true.
func concurrently(n int, f func(i int) bool) int {
	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			if f(i) {
				wins.Add(1)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	return int(wins.Load())
}

func TestTakeCodeHasOneWinner(t *testing.T) {
	s := mongotest.Store(t)
	c := store.Code{Nonce: "n1", Hash: []byte{1}, SentAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
	if err := s.SaveCode(ctx(t), "phone:k", c, nil, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	wins := concurrently(20, func(int) bool {
		got, _, err := s.TakeCode(ctx(t), "phone:k", nil, t0)
		if err != nil && !errors.Is(err, store.ErrCodeNotFound) {
			t.Error(err)
		}
		return got != nil
	})
	if wins != 1 {
		t.Fatalf("%d requests took the same code, want exactly 1", wins)
	}
}

func TestPutBackCodeLeavesANewerCode(t *testing.T) {
	s := mongotest.Store(t)
	old := store.Code{Nonce: "old", Hash: []byte{1}, SentAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
	if err := s.SaveCode(ctx(t), "phone:k", old, nil, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.TakeCode(ctx(t), "phone:k", nil, t0); err != nil {
		t.Fatal(err)
	}
	newer := store.Code{Nonce: "new", Hash: []byte{2}, SentAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
	if err := s.SaveCode(ctx(t), "phone:k", newer, nil, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutBackCode(ctx(t), "phone:k", old); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("put back over a newer code: %v, want ErrConflict", err)
	}
	got, _, err := s.TakeCode(ctx(t), "phone:k", nil, t0)
	if err != nil || got.Nonce != "new" {
		t.Fatalf("code now %+v, %v; want the newer one", got, err)
	}
}

func TestRecordPhoneSendSeesEverySendBeforeIt(t *testing.T) {
	s := mongotest.Store(t)
	seen := make([]int, 20)
	concurrently(20, func(i int) bool {
		p, err := s.RecordPhoneSend(ctx(t), "phone:k", store.Send{ID: string(rune('a' + i)), At: t0}, t0.Add(time.Hour))
		if err != nil {
			t.Error(err)
			return false
		}
		seen[i] = len(p.Sends)
		return true
	})
	// Each send saw itself and those before it: 1, 2, … 20, in some order.
	counts := map[int]bool{}
	for _, n := range seen {
		counts[n] = true
	}
	if len(counts) != 20 {
		t.Fatalf("concurrent sends saw %v sends, want each of 1..20 once", seen)
	}
}

func TestCountSendLosesNothing(t *testing.T) {
	s := mongotest.Store(t)
	concurrently(30, func(int) bool {
		_, err := s.CountSend(ctx(t), "client:k", "100", t0.Add(time.Hour))
		if err != nil {
			t.Error(err)
		}
		return true
	})
	c, err := s.CountSend(ctx(t), "client:k", "100", t0.Add(time.Hour))
	if err != nil || c.Minutes["100"] != 31 {
		t.Fatalf("after 31 counts: %v, %v", c, err)
	}
	if err := s.ReleaseSend(ctx(t), "", store.Send{}, store.Uncount{Key: "client:k", Minute: "100"}); err != nil {
		t.Fatal(err)
	}
	if c, _ = s.CountSend(ctx(t), "client:k", "100", t0.Add(time.Hour)); c.Minutes["100"] != 31 {
		t.Fatalf("release did not take one back: %v", c.Minutes)
	}
}

func TestClaimHasOneHolder(t *testing.T) {
	s := mongotest.Store(t)
	id := store.PhoneIdentity("86", "13800138000")
	holders := make([]bson.ObjectID, 20)
	for i := range holders {
		holders[i] = bson.NewObjectID()
	}
	leases := make([]string, 20)
	wins := concurrently(20, func(i int) bool {
		leases[i] = store.NewLease()
		err := s.Claim(ctx(t), id, holders[i], leases[i], t0)
		if err != nil && !errors.Is(err, store.ErrDuplicate) {
			t.Error(err)
		}
		return err == nil
	})
	if wins != 1 {
		t.Fatalf("%d requests claimed one identity, want 1", wins)
	}
	c, err := s.ClaimOf(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	// A release names the lease: another lease, or an older one, misses.
	if ok, _ := s.Release(ctx(t), id, store.NewLease()); ok {
		t.Fatal("a release naming another lease released the claim")
	}
	renewed := store.NewLease()
	if before, err := s.Restamp(ctx(t), id, bson.NewObjectID(), "", renewed, t0); before != nil || err != nil {
		t.Fatalf("another account re-stamped the claim: %v %v", before, err)
	}
	if before, err := s.Restamp(ctx(t), id, c.UserID, "", renewed, t0); before == nil || before.Lease != c.Lease || err != nil {
		t.Fatalf("its account could not re-stamp the claim, or was not told its lease before: %+v %v", before, err)
	}
	if ok, _ := s.Release(ctx(t), id, c.Lease); ok {
		t.Fatal("a release planned before the re-stamp released the claim")
	}
	if ok, _ := s.Release(ctx(t), id, renewed); !ok {
		t.Fatal("the lease holder could not release the claim")
	}
	if _, err := s.ClaimOf(ctx(t), id); !errors.Is(err, store.ErrNotClaimed) {
		t.Fatalf("released claim still there: %v", err)
	}
}

func TestRotateSessionHasOneWinner(t *testing.T) {
	s := mongotest.Store(t)
	u := store.NewUser(t0)
	u.Sessions = map[string]store.Session{"sid": {TokenHash: []byte{1}, CreatedAt: t0, RotatedAt: t0, ExpiresAt: t0.Add(time.Hour)}}
	if err := s.CreateUser(ctx(t), u); err != nil {
		t.Fatal(err)
	}
	wins := concurrently(20, func(int) bool {
		ok, err := s.RotateSession(ctx(t), u.ID, "sid", 0, store.Session{Gen: 1, TokenHash: []byte{2}, RotatedAt: t0, ExpiresAt: t0.Add(time.Hour)}, nil)
		if err != nil {
			t.Error(err)
		}
		return ok
	})
	if wins != 1 {
		t.Fatalf("%d rotations of one generation won, want 1", wins)
	}
}

func TestUnlinkingTheLastTwoIdentitiesHasOneWinner(t *testing.T) {
	s := mongotest.Store(t)
	u := store.NewUser(t0)
	u.List(store.PhoneIdentity("86", "13800138000"), "l1")
	u.List(store.OpenIDIdentity("wxapp", "o1"), "l2")
	if err := s.CreateUser(ctx(t), u); err != nil {
		t.Fatal(err)
	}
	wins := concurrently(2, func(i int) bool {
		remove := []store.Identity{u.Identities()[i]}
		_, err := s.ChangeIdentities(ctx(t), u.ID, store.Change{Remove: remove, Rev: u.Rev}, t0)
		if err != nil && !errors.Is(err, store.ErrConflict) {
			t.Error(err)
		}
		return err == nil
	})
	if wins != 1 {
		t.Fatalf("%d of the two unlinks succeeded, want 1", wins)
	}
}

func TestDeletedAccountLeavesATombstone(t *testing.T) {
	s := mongotest.Store(t)
	u := store.NewUser(t0)
	u.CountryCode, u.Phone, u.Nickname = "86", "13800138000", "小明"
	u.Sessions = map[string]store.Session{"sid": {ExpiresAt: t0.Add(time.Hour)}}
	if err := s.CreateUser(ctx(t), u); err != nil {
		t.Fatal(err)
	}
	before, err := s.DeleteUser(ctx(t), u.ID, t0)
	if err != nil || before.Phone != u.Phone {
		t.Fatalf("delete: %+v %v", before, err)
	}
	gone, err := s.UserByID(ctx(t), u.ID)
	if err != nil || !gone.IsDeleted() || gone.Phone != "" || gone.Nickname != "" || len(gone.Sessions) != 0 || len(gone.Identities()) != 0 {
		t.Fatalf("tombstone holds more than its id: %+v %v", gone, err)
	}
	// Its id is never used again.
	again := store.NewUser(t0)
	again.ID = u.ID
	if err := s.CreateUser(ctx(t), again); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("a new account took a deleted account's id: %v", err)
	}
}

func TestEnsureIndexesIsIdempotent(t *testing.T) {
	s := mongotest.Store(t) // runs EnsureIndexes once
	results, err := s.EnsureIndexes(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(results) == 0 {
		t.Fatal("no indexes reported")
	}
	for _, r := range results {
		if r.Outcome == store.IndexCreated || r.Outcome == store.IndexDiffers {
			t.Errorf("second run changed %s.%s: %s %s", r.Collection, r.Name, r.Outcome, r.Note)
		}
		if r.Outcome == store.IndexUnsupported && r.Note == "" {
			t.Errorf("%s.%s unsupported without saying why", r.Collection, r.Name)
		}
	}
}

func TestTokenLeaseHasOneHolderAndBreaksWhenStale(t *testing.T) {
	s := mongotest.Store(t)
	holders := concurrently(10, func(i int) bool {
		return s.AcquireTokenLease(ctx(t), "wxapp", string(rune('a'+i)), t0, t0.Add(10*time.Second)) == nil
	})
	if holders != 1 {
		t.Fatalf("%d holders of one lease", holders)
	}
	if err := s.AcquireTokenLease(ctx(t), "wxapp", "late", t0.Add(11*time.Second), t0.Add(21*time.Second)); err != nil {
		t.Fatalf("stale lease not broken: %v", err)
	}
}

func TestUnreachableDatabaseIsUnavailable(t *testing.T) {
	s, err := store.Connect("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200", "x", "test")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.UserByID(ctx(t), bson.NewObjectID())
	var u interface{ Unavailable() bool }
	if !errors.As(err, &u) || !u.Unavailable() {
		t.Fatalf("got %v, want an unavailable error", err)
	}
}

// TestDisabledFlagReadsAndMatchesAlike checks that whatever an operator
// types, reading the flag and the update that refuses disabled accounts
// agree.
func TestDisabledFlagReadsAndMatchesAlike(t *testing.T) {
	s := mongotest.Store(t)
	for _, tt := range []struct {
		value    any
		disabled bool
	}{
		{true, true}, {1, true}, {int64(1), true}, {2.5, true}, {"true", true}, {"yes", true}, {"Yes", true}, {" false", true}, {"nope", true},
		{false, false}, {0, false}, {0.0, false}, {"false", false}, {"False", false}, {"FALSE", false}, {"no", false}, {"off", false}, {"0", false}, {"", false}, {nil, false},
	} {
		u := store.NewUser(t0)
		if err := s.CreateUser(ctx(t), u); err != nil {
			t.Fatal(err)
		}
		if err := s.SetField(ctx(t), u.ID, "disabled", tt.value); err != nil {
			t.Fatal(err)
		}
		got, err := s.UserByID(ctx(t), u.ID)
		if err != nil || got.IsDisabled() != tt.disabled {
			t.Errorf("disabled: %#v read as %v (%v), want %v", tt.value, got.IsDisabled(), err, tt.disabled)
		}
		nick := "x"
		_, err = s.UpdateProfile(ctx(t), u.ID, "", store.ProfileChanges{Nickname: &nick}, t0)
		if updated := err == nil; updated == tt.disabled {
			t.Errorf("disabled: %#v: profile update went through = %v, want %v", tt.value, updated, !tt.disabled)
		}
	}
}

func TestUpsertRetriesADuplicateKeyOnce(t *testing.T) {
	uri, db := mongotest.Database(t)
	s := mongotest.StoreFor(t, uri, db)
	mongotest.DuplicateKeyNextWrite(t, db, func(command, coll string) bool { return command == "findAndModify" && coll == "sms" })
	p, err := s.RecordPhoneSend(ctx(t), "phone:k", store.Send{ID: "s1", At: t0}, t0.Add(time.Hour))
	if err != nil {
		t.Fatalf("an upsert answered a duplicate key once was not retried: %v", err)
	}
	if len(p.Sends) != 1 {
		t.Fatalf("sends %v, want the one send", p.Sends)
	}
	// Twice in a row is not a race lost but a bug: the error stands.
	for range 2 {
		mongotest.DuplicateKeyNextWrite(t, db, func(command, coll string) bool { return command == "findAndModify" && coll == "sms" })
	}
	if _, err := s.RecordPhoneSend(ctx(t), "phone:k", store.Send{ID: "s2", At: t0}, t0.Add(time.Hour)); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("two duplicate keys answered %v, want ErrDuplicate", err)
	}
}

func TestConnectionStringsThatWeakenTheRulesAreRefused(t *testing.T) {
	for uri, option := range map[string]string{
		"mongodb://127.0.0.1:1/?readPreference=secondaryPreferred": "readPreference",
		"mongodb://127.0.0.1:1/?readPreference=nearest":            "readPreference",
		"mongodb://127.0.0.1:1/?w=1":                               "w",
		"mongodb://127.0.0.1:1/?w=0":                               "w",
		"mongodb://127.0.0.1:1/?journal=false":                     "journal",
	} {
		_, err := store.Connect(uri, "x", "test")
		var weak *store.WeakURIError
		if !errors.As(err, &weak) || weak.Option != option {
			t.Errorf("%s: %v, want a WeakURIError naming %s", uri, err, option)
		}
	}
	for _, uri := range []string{
		"mongodb://127.0.0.1:1/",
		"mongodb://127.0.0.1:1/?readPreference=primary&w=majority&journal=true",
	} {
		s, err := store.Connect(uri, "x", "test")
		if err != nil {
			t.Errorf("%s refused: %v", uri, err)
			continue
		}
		_ = s.Close(ctx(t))
	}
}
