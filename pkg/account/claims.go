package account

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/logging"
	"github.com/wxauth/scf-auth/pkg/store"
)

// A request that meets a claim its account does not list waits up to
// settleWait for the request that made it, then settles it: a claim of no
// account (a creation cut short, or slower than settleWait) is sealed and
// released; a claim of a deleted account is released; a claim of a live
// account that does not list it is released once older than claimGrace,
// longer than a function may run (its timeout is 10 s), so that no running
// link loses its claim; until then the request answers SERVICE_UNAVAILABLE,
// and the client tries again.
const (
	claimGrace = 30 * time.Second
	settleWait = 3 * time.Second
	settlePoll = 20 * time.Millisecond
	// maxLooks bounds how often one request looks again: about settleWait
	// of waiting and a few lost races.
	maxLooks = int(settleWait/settlePoll) + 10
)

var (
	errLinkInProgress = errors.New("account: an identity's link is in progress or was cut short less than 30s ago")
	errRaceLost       = errors.New("account: identities kept changing during resolution")
)

// holding is what an identity's claim says and what its account is.
type holding struct {
	id    store.Identity
	claim *store.Claim // nil: the identity is free
	user  *store.User  // the claim's account as read; nil: none
}

func (h holding) free() bool { return h.claim == nil }

// holder is the live account holding the identity, or nil.
func (h holding) holder() *store.User {
	if h.claim != nil && h.user != nil && h.user.Holds(h.id) {
		return h.user
	}
	return nil
}

// look is one request's view of some identities, read again until what it
// sees is settled.
type look struct {
	r   *Resolver
	ids []store.Identity
	// known are claims read before the first look (nil: free).
	known map[store.Identity]*store.Claim
	// mine, when set, is an account linking: its own claims it does not
	// list are left for it to re-stamp, which finishes a link of it cut
	// short.
	mine     bson.ObjectID
	deadline time.Time
	looks    int
}

func (r *Resolver) look(known map[store.Identity]*store.Claim, ids ...store.Identity) *look {
	return &look{r: r, ids: ids, known: known, deadline: time.Now().Add(settleWait)}
}

// next reads the claims and the accounts they name, settles what it must,
// and reads again until it finds nothing to settle.
func (l *look) next(ctx context.Context) (map[store.Identity]holding, error) {
	for ; l.looks < maxLooks; l.looks++ {
		hs, err := l.read(ctx)
		if err != nil {
			return nil, err
		}
		if !consistent(hs) {
			continue // read between a claim and its account's change: again
		}
		settled := true
		for _, h := range hs {
			if h.free() || h.holder() != nil || h.claim.UserID == l.mine {
				continue
			}
			settled = false
			if err := l.settle(ctx, h); err != nil {
				return nil, err
			}
		}
		if settled {
			l.looks++
			return hs, nil
		}
	}
	logging.FromContext(ctx).Error("identities kept changing: gave up", "looks", l.looks)
	return nil, apierror.Unavailable(errRaceLost)
}

func (l *look) read(ctx context.Context) (map[store.Identity]holding, error) {
	var unknown []store.Identity
	for _, id := range l.ids {
		if _, ok := l.known[id]; !ok {
			unknown = append(unknown, id)
		}
	}
	claims, err := l.r.store.ClaimsOf(ctx, unknown...)
	if err != nil {
		return nil, err
	}
	for id, c := range l.known {
		if c != nil {
			claims[id] = c
		}
	}
	l.known = nil // after the first look, read everything again
	users := map[bson.ObjectID]*store.User{}
	hs := make(map[store.Identity]holding, len(l.ids))
	for _, id := range l.ids {
		h := holding{id: id, claim: claims[id]}
		if h.claim != nil {
			u, seen := users[h.claim.UserID]
			if !seen {
				var err error
				u, err = l.r.store.UserByID(ctx, h.claim.UserID)
				if err != nil && !errors.Is(err, store.ErrUserNotFound) {
					return nil, err
				}
				users[h.claim.UserID] = u
			}
			h.user = u
		}
		hs[id] = h
	}
	return hs, nil
}

// consistent reports whether every account in a look lists only
// identities whose claims, as read, are its own. Claims and accounts are
// read one after the other, so an account may already list an identity
// whose claim was read before it was made.
func consistent(hs map[store.Identity]holding) bool {
	for _, h := range hs {
		for id, other := range hs {
			if h.user != nil && h.user.Holds(id) && (other.claim == nil || other.claim.UserID != h.user.ID) {
				return false
			}
		}
	}
	return true
}

// settle deals with a claim whose account does not list it, or pauses to
// give the request that made it a moment.
func (l *look) settle(ctx context.Context, h holding) error {
	c, u := h.claim, h.user
	age := l.r.now().Sub(c.At)
	waiting := time.Now().Before(l.deadline)
	log := logging.FromContext(ctx)
	switch {
	case u == nil && age < settleWait && waiting:
		return pause(ctx)
	case u == nil:
		// A creation cut short, or slower than settleWait: seal its id,
		// so that it can never be completed, then release.
		err := l.r.store.SealUser(ctx, c.UserID, l.r.now())
		if errors.Is(err, store.ErrDuplicate) {
			return nil // its account is there now: look again
		}
		if err != nil {
			return err
		}
		log.Warn("account creation cut short: sealed and its identity released", "userId", c.UserID.Hex(), "identity", h.id.Kind())
	case u.IsDeleted():
	case age < claimGrace && waiting:
		return pause(ctx)
	case age < claimGrace:
		return apierror.Unavailable(errLinkInProgress)
	default:
		log.Warn("identity released that its account no longer lists", "userId", c.UserID.Hex(), "identity", h.id.Kind())
	}
	_, err := l.r.store.Release(ctx, h.id, c.Lease)
	return err
}

// pause waits a moment for a running request to settle a claim.
func pause(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(settlePoll):
		return nil
	}
}

// create makes the new account u, which lists its identities, with the
// session ns: it claims every identity under one lease, then inserts the
// account. It returns nil, with nothing left claimed, when another request
// claimed one of them first, or took the creation for cut short and sealed
// its id: the caller looks again, with a fresh id.
func (r *Resolver) create(ctx context.Context, u *store.User, ns *NewSession) (*store.User, error) {
	lease := store.NewLease()
	ids := u.Identities()
	for _, id := range ids {
		u.List(id, lease)
	}
	var claimed []store.Identity
	for _, id := range ids { // sorted: two creations of one person claim in one order
		if err := r.store.Claim(ctx, id, u.ID, lease, r.now()); err != nil {
			r.release(ctx, u.ID, lease, claimed...)
			if errors.Is(err, store.ErrDuplicate) {
				return nil, nil
			}
			return nil, err
		}
		claimed = append(claimed, id)
	}
	if u.Nickname == "" {
		u.Nickname, u.NicknameGenerated = GeneratedNickname(), true
	}
	u.Sessions = map[string]store.Session{ns.ID: ns.Record}
	err := r.store.CreateUser(ctx, u)
	if errors.Is(err, store.ErrDuplicate) {
		r.release(ctx, u.ID, lease, claimed...)
		return nil, nil
	}
	if err != nil {
		// It may have come after the account was written: the claims
		// stay, held by it or, if it was not written, an orphan the next
		// request seals.
		return nil, err
	}
	return u, nil
}

// stamp claims ids for the account u under lease: by insert, or, where
// the claim is already u's (a link of u cut short, or racing this one),
// by re-stamping it. It reports errChanged when one is another's, and
// then undoes what it did: it releases the claims it made and hands the
// ones it re-stamped back to the lease they had, which the account may
// record (u may be an older view of it).
func (r *Resolver) stamp(ctx context.Context, u *store.User, lease string, ids []store.Identity) error {
	previous := map[store.Identity]string{} // re-stamped: the lease before
	var made []store.Identity
	undo := func() {
		r.release(ctx, u.ID, lease, made...)
		for id, before := range previous {
			if _, err := r.store.Restamp(context.WithoutCancel(ctx), id, u.ID, lease, before, r.now()); err != nil {
				logging.FromContext(ctx).Warn("claim not handed back", "userId", u.ID.Hex(), "cause", err.Error())
			}
		}
	}
	for _, id := range ids {
		err := r.store.Claim(ctx, id, u.ID, lease, r.now())
		if err == nil {
			made = append(made, id)
			continue
		}
		if errors.Is(err, store.ErrDuplicate) {
			var before *store.Claim
			if before, err = r.store.Restamp(ctx, id, u.ID, "", lease, r.now()); err == nil && before == nil {
				err = errChanged
			}
			if err == nil {
				previous[id] = before.Lease
				continue
			}
		}
		undo()
		return err
	}
	return nil
}

// release gives back claims of the account userID that have lease, on a
// request's way out. Failing to is harmless: the next request that meets
// them settles them.
func (r *Resolver) release(ctx context.Context, userID bson.ObjectID, lease string, ids ...store.Identity) {
	ctx = context.WithoutCancel(ctx)
	for _, id := range ids {
		if _, err := r.store.Release(ctx, id, lease); err != nil {
			logging.FromContext(ctx).Warn("claim not released; the next request that meets it will",
				"userId", userID.Hex(), "identity", id.Kind(), "cause", err.Error())
		}
	}
}

// releaseListed gives back the claims of identities the account u listed
// and no longer does, naming the leases u recorded.
func (r *Resolver) releaseListed(ctx context.Context, u *store.User, ids ...store.Identity) {
	for _, id := range ids {
		if lease, ok := u.LeaseOf(id); ok {
			r.release(ctx, u.ID, lease, id)
		}
	}
}

// attach stores the session ns in account id, if it is live, enabled and
// lists every identity of want, and returns it: one round trip. nil means
// it does not list them (or is gone): the caller looks again. A disabled
// account is ACCOUNT_DISABLED.
func (r *Resolver) attach(ctx context.Context, id bson.ObjectID, want []store.Identity, ns *NewSession) (*store.User, error) {
	u, err := r.store.AddSession(ctx, id, want, ns.ID, ns.Record)
	if errors.Is(err, store.ErrConflict) {
		u, err := r.store.UserByID(ctx, id)
		switch {
		case errors.Is(err, store.ErrUserNotFound):
			return nil, nil
		case err != nil:
			return nil, err
		case u.IsDisabled() && holdsAll(u, want):
			return nil, apierror.Disabled()
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r.pruneSessions(ctx, u, ns.ID)
	return u, nil
}

func holdsAll(u *store.User, ids []store.Identity) bool {
	for _, id := range ids {
		if !u.Holds(id) {
			return false
		}
	}
	return true
}

// pruneSessions ends the account's expired sessions and those beyond
// MaxSessions, when there are any: an extra round trip only then.
func (r *Resolver) pruneSessions(ctx context.Context, u *store.User, keep string) {
	stale := u.StaleSessions(r.now(), keep)
	if len(stale) == 0 {
		return
	}
	if _, err := r.store.RemoveSessions(ctx, u.ID, stale...); err != nil {
		logging.FromContext(ctx).Warn("old sessions not pruned", "userId", u.ID.Hex(), "cause", err.Error())
		return
	}
	for _, sid := range stale {
		delete(u.Sessions, sid)
	}
}
