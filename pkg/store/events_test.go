package store_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/mongotest"
	"github.com/wxauth/scf-auth/pkg/store"
)

// A login's event rides in the write that adds its session, stamped with
// the session's client; the account keeps its last 20 events, the newest
// first when read; logins stay out of the audit trail, a signup is in it.
func TestEventsOfLoginsAndTheirCap(t *testing.T) {
	s := mongotest.Store(t)
	c := store.WithOrigin(ctx(t), store.Origin{Client: "mini-program wx0123456789abcdef · iOS"})
	u := store.NewUser(t0)
	u.CountryCode, u.Phone = "86", "13800138000"
	if err := s.CreateUser(c, u); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 25; i++ {
		sess := store.Session{Method: "sms", Client: fmt.Sprintf("client %d", i), CreatedAt: t0.Add(time.Duration(i) * time.Minute), ExpiresAt: t0.Add(time.Hour)}
		if _, err := s.AddSession(c, u.ID, nil, fmt.Sprintf("s%d", i), sess); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.UserByID(ctx(t), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	events := got.RecentEvents()
	if len(events) != store.MaxEvents {
		t.Fatalf("%d events, want %d", len(events), store.MaxEvents)
	}
	if e := events[0]; e.Type != store.EventLogin || e.Client != "client 24" || e.Method != "sms" || !e.At.Equal(t0.Add(24*time.Minute)) {
		t.Fatalf("newest event %+v", e)
	}
	if e := events[len(events)-1]; e.Client != "client 5" {
		t.Fatalf("oldest event kept %+v, want the login of client 5", e)
	}
	trail, err := s.AuditTrail(ctx(t), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(trail) != 1 || trail[0].Type != store.EventSignup || trail[0].Phone != "138****8000" || trail[0].Client != "" {
		t.Fatalf("audit trail %+v, want the signup alone, its number masked", trail)
	}
}

// Every change of a way to log in records its event in the account and,
// first, its audit entry, with the numbers masked and the origin's
// client and operator.
func TestLinkingRecordsEventsAndAudit(t *testing.T) {
	s := mongotest.Store(t)
	c := store.WithOrigin(ctx(t), store.Origin{Client: "curl", Operator: "ops-alice"})
	u := store.NewUser(t0)
	o1, o2 := store.OpenIDIdentity("wxapp", "o-1"), store.OpenIDIdentity("wxapp", "o-2")
	p1, p2 := store.PhoneIdentity("86", "13800138000"), store.PhoneIdentity("86", "13900139000")
	u.List(o1, "l0")
	if err := s.CreateUser(c, u); err != nil {
		t.Fatal(err)
	}
	rev := int64(0)
	steps := []store.Change{
		{Add: map[store.Identity]string{p1: "l1"}},
		{Add: map[store.Identity]string{p2: "l2"}, Remove: []store.Identity{p1}},
		{Remove: []store.Identity{o1}},
		{Add: map[store.Identity]string{o2: "l3"}},
		{Remove: []store.Identity{p2}},
	}
	for i, step := range steps {
		step.Rev = rev
		got, err := s.ChangeIdentities(c, u.ID, step, t0.Add(time.Duration(i+1)*time.Second))
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		rev = got.Rev
	}
	want := []struct{ typ, method, phone, previous string }{
		{store.EventSignup, "", "", ""},
		{store.EventLink, store.MethodPhone, "138****8000", ""},
		{store.EventPhoneChange, store.MethodPhone, "139****9000", "138****8000"},
		{store.EventUnlink, store.MethodWeChat, "", ""},
		{store.EventLink, store.MethodWeChat, "", ""},
		{store.EventUnlink, store.MethodPhone, "139****9000", ""},
	}
	trail, err := s.AuditTrail(ctx(t), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.UserByID(ctx(t), u.ID)
	if len(trail) != len(want) || len(got.Events) != len(want) {
		t.Fatalf("audit %+v\nevents %+v\nwant %d of each", trail, got.Events, len(want))
	}
	for i, w := range want {
		e, a := got.Events[i], trail[i]
		if e.Type != w.typ || e.Method != w.method || a.Type != w.typ || a.Method != w.method || a.Phone != w.phone || a.PreviousPhone != w.previous {
			t.Errorf("%d: event %+v, audit %+v, want %+v", i, e, a, w)
		}
		if i > 0 && (e.Client != "curl" || a.Client != "curl" || a.Operator != "ops-alice" || !a.ExpiresAt.Equal(a.At.Add(4320*time.Hour))) {
			t.Errorf("%d: origin or retention not stamped: event %+v, audit %+v", i, e, a)
		}
	}
	// A change refused by its condition changes nothing in the account;
	// its audit entry, written first, stays as an attempt.
	if _, err := s.ChangeIdentities(c, u.ID, store.Change{Remove: []store.Identity{p2}, Rev: rev - 1}, t0.Add(6*time.Second)); err == nil {
		t.Fatal("removed a phone on an older reading of the account")
	}
	if again, _ := s.UserByID(ctx(t), u.ID); len(again.Events) != len(want) {
		t.Fatalf("a refused change recorded an event: %+v", again.Events)
	}
}

// Revoking one session and ending them all record their events; a second
// revocation finds nothing to end.
func TestSessionEndingEvents(t *testing.T) {
	s := mongotest.Store(t)
	u := store.NewUser(t0)
	if err := s.CreateUser(ctx(t), u); err != nil {
		t.Fatal(err)
	}
	sess := store.Session{Method: "wechat", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	for _, sid := range []string{"a", "b", "c"} {
		if _, err := s.AddSession(ctx(t), u.ID, nil, sid, sess); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := s.RevokeSession(ctx(t), u.ID, "a", sess, store.EventSessionRevoked, t0); err != nil || !ok {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	if ok, err := s.RevokeSession(ctx(t), u.ID, "a", sess, store.EventSessionRevoked, t0); err != nil || ok {
		t.Fatalf("second revoke: %v %v", ok, err)
	}
	if ok, err := s.EndAllSessions(ctx(t), u.ID, "b", t0); err != nil || !ok {
		t.Fatalf("end all: %v %v", ok, err)
	}
	got, _ := s.UserByID(ctx(t), u.ID)
	if len(got.Sessions) != 0 {
		t.Fatalf("sessions left: %v", got.Sessions)
	}
	events := got.RecentEvents()
	if events[0].Type != store.EventLogoutAll || events[1].Type != store.EventSessionRevoked || events[1].Method != "wechat" || len(events) != 6 {
		t.Fatalf("events %+v", events)
	}
}

// An account created by a login records its signup as that login's
// session says; one completed from the claims of a creation cut short
// records it once, whoever writes it.
func TestSignupEvent(t *testing.T) {
	s := mongotest.Store(t)
	u := store.NewUser(t0)
	u.Sessions = map[string]store.Session{"s1": {Method: "phone-number", Client: "wx.cloud wx0123456789abcdef", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}}
	if err := s.CreateUser(ctx(t), u); err != nil {
		t.Fatal(err)
	}
	got, _ := s.UserByID(ctx(t), u.ID)
	if e := got.Events; len(e) != 1 || e[0].Type != store.EventSignup || e[0].Method != "phone-number" || e[0].Client != "wx.cloud wx0123456789abcdef" {
		t.Fatalf("events %+v", e)
	}
	// A second creation of the same account (it lost the race) writes no
	// second signup entry.
	if err := s.CreateUser(ctx(t), u); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("second creation: %v", err)
	}
	if trail, _ := s.AuditTrail(ctx(t), u.ID); len(trail) != 1 {
		t.Fatalf("audit %+v, want one signup", trail)
	}
}
