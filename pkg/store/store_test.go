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
	c := &store.SMSCode{Phone: "13800138000", Nonce: "n1", Hash: []byte{1}, SentAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
	if err := s.SaveCode(ctx(t), c); err != nil {
		t.Fatal(err)
	}
	wins := concurrently(20, func(int) bool {
		ok, err := s.TakeCode(ctx(t), c)
		if err != nil {
			t.Error(err)
		}
		return ok
	})
	if wins != 1 {
		t.Fatalf("%d requests took the same code, want exactly 1", wins)
	}
	if _, err := s.CodeFor(ctx(t), c.Phone, t0); !errors.Is(err, store.ErrCodeNotFound) {
		t.Fatalf("code still there after being taken: %v", err)
	}
}

func TestTakeCodeRefusesAnotherVersion(t *testing.T) {
	s := mongotest.Store(t)
	c := &store.SMSCode{Phone: "13800138000", Nonce: "n1", Attempts: 1, Hash: []byte{1}, SentAt: t0, ExpiresAt: t0.Add(time.Minute)}
	if err := s.SaveCode(ctx(t), c); err != nil {
		t.Fatal(err)
	}
	stale := *c
	stale.Attempts = 0
	if ok, err := s.TakeCode(ctx(t), &stale); ok || err != nil {
		t.Fatalf("took a version that is not stored: %v %v", ok, err)
	}
	if ok, _ := s.TakeCode(ctx(t), c); !ok {
		t.Fatal("could not take the stored version")
	}
}

func TestCodeForChecksExpiry(t *testing.T) {
	s := mongotest.Store(t)
	c := &store.SMSCode{Phone: "13800138000", Nonce: "n1", Hash: []byte{1}, SentAt: t0, ExpiresAt: t0.Add(time.Minute)}
	if err := s.SaveCode(ctx(t), c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CodeFor(ctx(t), c.Phone, t0.Add(59*time.Second)); err != nil {
		t.Fatalf("live code not found: %v", err)
	}
	if _, err := s.CodeFor(ctx(t), c.Phone, t0.Add(time.Minute)); !errors.Is(err, store.ErrCodeNotFound) {
		t.Fatalf("expired code answered: %v", err)
	}
}

func TestClaimSendOncePerWindow(t *testing.T) {
	s := mongotest.Store(t)
	id := store.SendWindowID("13800138000", t0, time.Minute)
	wins := concurrently(20, func(int) bool {
		err := s.ClaimSend(ctx(t), &store.SMSSend{ID: id, Phone: "13800138000", At: t0, ExpiresAt: t0.Add(24 * time.Hour)})
		if err != nil && !errors.Is(err, store.ErrDuplicate) {
			t.Error(err)
		}
		return err == nil
	})
	if wins != 1 {
		t.Fatalf("%d sends recorded in one window, want 1", wins)
	}
}

func TestClaimRotationHasOneWinner(t *testing.T) {
	s := mongotest.Store(t)
	wins := concurrently(20, func(int) bool {
		_, err := s.ClaimRotation(ctx(t), "sid", 1, t0, t0.Add(time.Minute))
		return err == nil
	})
	if wins != 1 {
		t.Fatalf("%d rotations claimed one generation, want 1", wins)
	}
}

func TestUserForPhoneCreatesOneUserUnderConcurrency(t *testing.T) {
	s := mongotest.Store(t)
	ids := make([]bson.ObjectID, 20)
	created := concurrently(20, func(i int) bool {
		u, isNew, err := s.UserForPhone(ctx(t), "86", "13800138000", store.NewUser(t0))
		if err != nil {
			t.Error(err)
			return false
		}
		ids[i] = u.ID
		return isNew
	})
	if created != 1 {
		t.Fatalf("%d requests created the user, want 1", created)
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("requests saw different users: %v", ids)
		}
	}
}

func TestIdentitiesAreUnique(t *testing.T) {
	s := mongotest.Store(t)
	a := store.NewUser(t0)
	a.CountryCode, a.Phone = "86", "13800138000"
	a.WeChat = &store.WeChat{OpenID: "o1", UnionID: "u1"}
	if err := s.InsertUser(ctx(t), a); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*store.User){
		"phone":   func(u *store.User) { u.CountryCode, u.Phone = "86", "13800138000" },
		"openid":  func(u *store.User) { u.WeChat = &store.WeChat{OpenID: "o1"} },
		"unionid": func(u *store.User) { u.WeChat = &store.WeChat{OpenID: "o2", UnionID: "u1"} },
	} {
		b := store.NewUser(t0)
		mutate(b)
		if err := s.InsertUser(ctx(t), b); !errors.Is(err, store.ErrDuplicate) {
			t.Errorf("second user with the same %s: %v, want ErrDuplicate", name, err)
		}
	}
	// Many accounts without a phone or a WeChat identity must not collide.
	for i := 0; i < 3; i++ {
		if err := s.InsertUser(ctx(t), store.NewUser(t0)); err != nil {
			t.Fatalf("user without identities %d: %v", i, err)
		}
	}
	// Binding an identity another account holds is refused.
	c := store.NewUser(t0)
	if err := s.InsertUser(ctx(t), c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BindWeChat(ctx(t), c.ID, store.WeChat{OpenID: "o1"}, t0); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("bind taken openid: %v, want ErrDuplicate", err)
	}
	if _, err := s.BindPhone(ctx(t), a.ID, "86", "13900139000", t0); !errors.Is(err, store.ErrConflict) {
		t.Errorf("bind a second phone: %v, want ErrConflict", err)
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

func TestAdvanceSessionAfterDeleteDoesNotResurrect(t *testing.T) {
	s := mongotest.Store(t)
	sess := &store.Session{ID: "sid", UserID: bson.NewObjectID(), Gen: 0, TokenHash: []byte{1}, CreatedAt: t0, RotatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.CreateSession(ctx(t), sess); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.DeleteSession(ctx(t), sess.ID); !ok || err != nil {
		t.Fatalf("delete: %v %v", ok, err)
	}
	next := *sess
	next.Gen = 1
	if err := s.AdvanceSession(ctx(t), &next); !errors.Is(err, store.ErrSessionNotFound) {
		t.Fatalf("advance of ended session: %v", err)
	}
	if _, err := s.SessionByID(ctx(t), sess.ID, t0); !errors.Is(err, store.ErrSessionNotFound) {
		t.Fatalf("ended session came back: %v", err)
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

func TestDisabledFlagAsTypedByHand(t *testing.T) {
	s := mongotest.Store(t)
	for _, tt := range []struct {
		value    any
		disabled bool
	}{{true, true}, {1, true}, {int64(1), true}, {"true", true}, {"yes", true}, {false, false}, {0, false}, {"false", false}, {nil, false}} {
		u := store.NewUser(t0)
		if err := s.InsertUser(ctx(t), u); err != nil {
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
		_, err = s.UpdateProfile(ctx(t), u.ID, store.ProfileChanges{Nickname: &nick}, t0)
		if updated := err == nil; updated == tt.disabled {
			t.Errorf("disabled: %#v: profile update went through = %v", tt.value, updated)
		}
	}
}
