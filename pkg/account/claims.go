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
	// rereads counts the looks in a row whose claims and accounts
	// disagreed.
	rereads int
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
		if stray := inconsistent(hs); len(stray) > 0 {
			// Read between a claim and its account's change: again, after
			// a moment. An account that keeps listing an identity with no
			// claim of its own breaks the rule (doc.go): say so, and give
			// it back its claim if the identity is free.
			if l.rereads++; l.rereads > maxRereads {
				l.heal(ctx, stray)
			}
			if err := pause(ctx); err != nil {
				return nil, err
			}
			continue
		}
		l.rereads = 0
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

// maxRereads is how many looks in a row may find claims and accounts
// disagreeing before it is taken for more than a moment's change.
const maxRereads = 3

// stray is an identity an account lists whose claim, as read, is not its
// own.
type stray struct {
	id   store.Identity
	user *store.User
}

// inconsistent lists the identities accounts in a look list whose claims,
// as read, are not theirs. Claims and accounts are read one after the
// other, so an account may already list an identity whose claim was read
// before it was made.
func inconsistent(hs map[store.Identity]holding) []stray {
	var out []stray
	for _, h := range hs {
		for id, other := range hs {
			if h.user != nil && h.user.Holds(id) && (other.claim == nil || other.claim.UserID != h.user.ID) {
				out = append(out, stray{id, h.user})
			}
		}
	}
	return out
}

// heal gives an account that lists an identity with no claim the claim,
// under the lease it records: insert only, so it cannot take the identity
// from another account.
func (l *look) heal(ctx context.Context, strays []stray) {
	for _, s := range strays {
		lease, _ := s.user.LeaseOf(s.id)
		err := l.r.store.Claim(ctx, s.id, s.user.ID, lease, l.r.now())
		logging.FromContext(ctx).Error("an account lists an identity without its claim: claim restored", "userId", s.user.ID.Hex(),
			"identity", s.id.Kind(), "restored", err == nil)
	}
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

// pause waits a moment for a running request to settle a claim. A
// request whose time runs out meanwhile answers SERVICE_UNAVAILABLE.
func pause(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return apierror.Unavailable(ctx.Err())
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

// stamping is what stamp did: the claims it made under its lease, and
// those it took over from another request of the same account (a link of
// it cut short, or racing this one), with the lease each had.
type stamping struct {
	userID bson.ObjectID
	lease  string
	made   []store.Identity
	taken  map[store.Identity]string
}

// stamp claims ids for the account u under lease: by insert, or, where
// the claim is already u's, by re-stamping it. It reports errChanged when
// one is another's, and then undoes what it did.
func (r *Resolver) stamp(ctx context.Context, u *store.User, lease string, ids []store.Identity) (*stamping, error) {
	s := &stamping{userID: u.ID, lease: lease, taken: map[store.Identity]string{}}
	for _, id := range ids {
		err := r.store.Claim(ctx, id, u.ID, lease, r.now())
		if err == nil {
			s.made = append(s.made, id)
			continue
		}
		if errors.Is(err, store.ErrDuplicate) {
			var before *store.Claim
			if before, err = r.store.Restamp(ctx, id, u.ID, "", lease, r.now()); err == nil && before == nil {
				err = errChanged
			}
			if err == nil {
				s.taken[id] = before.Lease
				continue
			}
		}
		r.undo(ctx, s, nil)
		return nil, err
	}
	return s, nil
}

// undo gives back what a stamping did that the account, as fresh shows it
// (nil: not known, or gone), does not stand on: a claim the account lists
// under another lease goes back to that lease; one it does not list is
// released if this request made it, and goes back to the lease it had if
// another request of the account made it, which may still be at work on
// it. A request releases only a claim it made.
func (r *Resolver) undo(ctx context.Context, s *stamping, fresh *store.User) {
	handBack := func(id store.Identity, to string) {
		cctx, cancel := cleanup(ctx)
		defer cancel()
		if _, err := r.store.Restamp(cctx, id, s.userID, s.lease, to, r.now()); err != nil {
			logging.FromContext(ctx).Warn("claim not handed back; the next request that meets it settles it", "userId", s.userID.Hex(), "cause", err.Error())
		}
	}
	decide := func(id store.Identity, unlisted func()) {
		recorded, listed := "", false
		if fresh != nil && !fresh.IsDeleted() {
			recorded, listed = fresh.LeaseOf(id)
		}
		switch {
		case listed && recorded != s.lease:
			handBack(id, recorded)
		case !listed:
			unlisted()
		}
	}
	for _, id := range s.made {
		decide(id, func() { r.release(ctx, s.userID, s.lease, id) })
	}
	for id, before := range s.taken {
		decide(id, func() { handBack(id, before) })
	}
}

// cleanup is the context of a write on a request's way out: it goes on
// when the request's own context is cancelled, for a moment.
func cleanup(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
}

// release gives back claims of the account userID that have lease, on a
// request's way out. Failing to is harmless: the next request that meets
// them settles them.
func (r *Resolver) release(ctx context.Context, userID bson.ObjectID, lease string, ids ...store.Identity) {
	for _, id := range ids {
		cctx, cancel := cleanup(ctx)
		_, err := r.store.Release(cctx, id, lease)
		cancel()
		if err != nil {
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
