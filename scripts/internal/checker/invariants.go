package checker

import (
	"context"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/account"
	"github.com/wxauth/scf-auth/pkg/store"
)

// snapshot is the stored state: every account and every claim.
type snapshot struct {
	users  map[bson.ObjectID]*store.User
	claims map[store.Identity]*store.Claim
}

func read(ctx context.Context, s *store.Store) (*snapshot, error) {
	snap := &snapshot{users: map[bson.ObjectID]*store.User{}, claims: map[store.Identity]*store.Claim{}}
	cur, err := s.Database().Collection("users").Find(ctx, bson.D{})
	if err != nil {
		return nil, err
	}
	var users []*store.User
	if err := cur.All(ctx, &users); err != nil {
		return nil, err
	}
	for _, u := range users {
		snap.users[u.ID] = u
	}
	cur, err = s.Database().Collection("identities").Find(ctx, bson.D{})
	if err != nil {
		return nil, err
	}
	var claims []*store.Claim
	if err := cur.All(ctx, &claims); err != nil {
		return nil, err
	}
	for _, c := range claims {
		snap.claims[c.ID] = c
	}
	return snap, nil
}

// always lists what must hold at every moment, repairs or not: no
// identity listed by two live accounts, each listed identity claimed for
// its account, and tombstones holding nothing.
func (s *snapshot) always() []string {
	var out []string
	listedBy := map[store.Identity]bson.ObjectID{}
	for _, u := range s.sortedUsers() {
		if u.IsDeleted() {
			if len(u.Sessions) > 0 || u.HasPhone() || u.HasWeChat() {
				out = append(out, fmt.Sprintf("deleted account %s keeps sessions or identities", u.ID.Hex()))
			}
			continue
		}
		for _, id := range u.Identities() {
			if other, ok := listedBy[id]; ok {
				out = append(out, fmt.Sprintf("%s is listed by two live accounts, %s and %s", id, other.Hex(), u.ID.Hex()))
			}
			listedBy[id] = u.ID
			if c := s.claims[id]; c == nil || c.UserID != u.ID {
				holder := "no claim"
				if c != nil {
					holder = "a claim naming " + c.UserID.Hex()
				}
				out = append(out, fmt.Sprintf("account %s lists %s, which has %s", u.ID.Hex(), id, holder))
			}
		}
	}
	return out
}

// unsettled lists the claims that do not name a live account listing
// them: what a request cut short left, for the next one to settle.
func (s *snapshot) unsettled() []store.Identity {
	var out []store.Identity
	for id, c := range s.claims {
		u := s.users[c.UserID]
		if u == nil || u.IsDeleted() || !u.Holds(id) {
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (s *snapshot) sortedUsers() []*store.User {
	users := make([]*store.User, 0, len(s.users))
	for _, u := range s.users {
		users = append(users, u)
	}
	sort.Slice(users, func(i, j int) bool { return users[i].ID.Hex() < users[j].ID.Hex() })
	return users
}

// checkState checks the stored state, settles what interrupted requests
// left as the next request meeting it would (with a clock past every
// grace period, as if the checker waited for them), and checks again,
// now also that every claim names a live account listing it. It reports
// how many identities needed settling.
func checkState(ctx context.Context, w *World, r *Report) (int, error) {
	before, err := read(ctx, w.Store)
	if err != nil {
		return 0, err
	}
	for _, v := range before.always() {
		r.Violations = append(r.Violations, "before settling: "+v)
	}
	later := account.NewResolver(w.Store, func() time.Time { return time.Now().Add(time.Hour) })
	unsettled := before.unsettled()
	for _, id := range unsettled {
		if err := later.Settle(ctx, id); err != nil {
			r.Violations = append(r.Violations, fmt.Sprintf("settling %s failed: %v", id, err))
		}
	}
	after, err := read(ctx, w.Store)
	if err != nil {
		return 0, err
	}
	for _, v := range after.always() {
		r.Violations = append(r.Violations, "after settling: "+v)
	}
	for _, id := range after.unsettled() {
		c := after.claims[id]
		r.Violations = append(r.Violations, fmt.Sprintf("after settling, the claim of %s names %s, which does not list it", id, c.UserID.Hex()))
	}
	return len(unsettled), nil
}
