package account

import (
	"context"
	"errors"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/logging"
	"github.com/wxauth/scf-auth/pkg/store"
)

// Claims and accounts are written in an order that makes a crash between
// any two writes harmless, and the next request that meets what was left
// finishes or undoes it:
//
//   - an account is created by claiming its identities, then inserting it:
//     a claim whose account does not exist (an orphan) is a creation in
//     progress or cut short, and is completed by inserting that account;
//     ids are never reused (deletion leaves a tombstone), so this cannot
//     bring a deleted account back; a creation that loses one of its
//     claims seals its id with a tombstone before it releases the others,
//     so that an account completed from them meanwhile is removed, and
//     none is completed later;
//   - an identity is linked by claiming it, then adding it to the account,
//     and unlinked (or its account deleted) by removing it from the account,
//     then releasing the claim: a claim whose account does not list it (a
//     stale claim) is a link in progress, or an unlink or deletion in
//     progress or cut short, and is released.
//
// A request meeting such a claim waits up to settleWait for the request
// that made it. An orphan is then completed: if its creator is still at
// work, it finds the account there and adds what it lacks. A stale claim
// of a tombstone is released at once. Any other stale claim is released
// only once older than claimGrace, longer than a function may run (its
// timeout is 10 s in serverless.yml), so that no running link ever loses
// its claim; until then the request answers SERVICE_UNAVAILABLE, and the
// client tries again.
const (
	claimGrace = 30 * time.Second
	settleWait = 3 * time.Second
	settlePoll = 20 * time.Millisecond
)

// errLinkInProgress is the cause of a request that met a link younger than
// claimGrace that did not finish within settleWait.
var errLinkInProgress = errors.New("account: an identity's link is in progress or was cut short less than 30s ago")

// holding is what an identity's claim says and what its account is.
type holding struct {
	id    store.Identity
	claim *store.Claim // nil: the identity is free
	user  *store.User  // the claim's account as read; nil: missing
}

func (h holding) free() bool { return h.claim == nil }

// held reports whether a live account holds the identity.
func (h holding) held() bool {
	return h.claim != nil && h.user != nil && !h.user.IsDeleted() && h.user.Holds(h.id)
}

// holder is the live account holding the identity, or nil.
func (h holding) holder() *store.User {
	if h.held() {
		return h.user
	}
	return nil
}

// lookKnowing reads the claims of ids and the accounts they name; claims
// in known were read already (nil: free), and are not read again.
func (r *Resolver) lookKnowing(ctx context.Context, known map[store.Identity]*store.Claim, ids ...store.Identity) (map[store.Identity]holding, error) {
	var unknown []store.Identity
	for _, id := range ids {
		if _, ok := known[id]; !ok {
			unknown = append(unknown, id)
		}
	}
	claims, err := r.store.ClaimsOf(ctx, unknown...)
	if err != nil {
		return nil, err
	}
	for id, c := range known {
		if c != nil {
			claims[id] = c
		}
	}
	users := map[bson.ObjectID]*store.User{}
	for _, c := range claims {
		if _, ok := users[c.UserID]; ok {
			continue
		}
		u, err := r.store.UserByID(ctx, c.UserID)
		if err != nil && !errors.Is(err, store.ErrUserNotFound) {
			return nil, err
		}
		users[c.UserID] = u
	}
	out := make(map[store.Identity]holding, len(ids))
	for _, id := range ids {
		h := holding{id: id, claim: claims[id]}
		if h.claim != nil {
			h.user = users[h.claim.UserID]
		}
		out[id] = h
	}
	return out, nil
}

// settler finishes or undoes what claims left half done, waiting a little
// for claims a running request is likely to settle itself.
type settler struct {
	r        *Resolver
	deadline time.Time
}

func (r *Resolver) settler() *settler {
	return &settler{r: r, deadline: time.Now().Add(settleWait)}
}

// settle deals with every claim of hs that is neither free nor held. It
// reports whether it found one, in which case the caller reads again.
func (s *settler) settle(ctx context.Context, hs map[store.Identity]holding) (bool, error) {
	found := false
	orphans := map[bson.ObjectID][]holding{}
	for _, h := range hs {
		switch {
		case h.free() || h.held():
		case h.user == nil:
			found = true
			orphans[h.claim.UserID] = append(orphans[h.claim.UserID], h)
		default:
			found = true
			if err := s.settleStale(ctx, h); err != nil {
				return true, err
			}
		}
	}
	for _, hs := range orphans {
		if err := s.settleOrphans(ctx, hs); err != nil {
			return true, err
		}
	}
	return found, nil
}

// settleOrphans completes the creation of an account that does not exist,
// from its claims hs (all naming it).
func (s *settler) settleOrphans(ctx context.Context, hs []holding) error {
	first := hs[0].claim
	if s.r.now().Sub(first.At) < claimGrace && time.Now().Before(s.deadline) {
		return pause(ctx)
	}
	// A creation cut short (or slow): finish it with what the claims say;
	// a creator still at work adds what they do not.
	u := store.NewUser(first.At)
	u.ID, u.Nickname = first.UserID, GeneratedNickname()
	// openid before unionid, which setIdentity needs.
	sort.Slice(hs, func(i, j int) bool { return hs[i].id < hs[j].id })
	var kinds []string
	for _, h := range hs {
		setIdentity(u, h.id)
		kinds = append(kinds, h.id.Kind())
	}
	err := s.r.store.CreateUser(ctx, u)
	if err == nil {
		logging.FromContext(ctx).Warn("account creation completed after an interrupted request", "userId", u.ID.Hex(), "identities", kinds)
	}
	if errors.Is(err, store.ErrDuplicate) {
		return nil // its creator finished meanwhile
	}
	return err
}

// settleStale releases a claim whose account does not list the identity,
// once it is not a link still at work.
func (s *settler) settleStale(ctx context.Context, h holding) error {
	young := s.r.now().Sub(h.claim.At) < claimGrace
	waiting := time.Now().Before(s.deadline)
	log := logging.FromContext(ctx)
	switch {
	case !h.user.IsDeleted() && young && waiting:
		return pause(ctx)
	case !h.user.IsDeleted() && young:
		return apierror.Unavailable(errLinkInProgress)
	}
	// An unlink or deletion not finished, or a link cut short: release.
	released, err := s.r.store.Release(ctx, h.id, h.claim.UserID)
	if released {
		log.Warn("identity released that its account no longer lists", "userId", h.claim.UserID.Hex(), "identity", h.id.Kind())
	}
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

// setIdentity adds an identity to an account being built.
func setIdentity(u *store.User, id store.Identity) {
	value := string(id)[len(id.Kind())+1:]
	switch id.Kind() {
	case "phone":
		u.CountryCode, u.Phone = phoneOf(id)
	case "openid":
		wx := store.WeChat{OpenID: value}
		if u.WeChat != nil {
			wx.UnionID = u.WeChat.UnionID
		}
		u.WeChat = &wx
	case "unionid":
		if u.WeChat != nil { // a unionid alone does not make a WeChat identity
			u.WeChat = &store.WeChat{OpenID: u.WeChat.OpenID, UnionID: value}
		}
	}
}

// phoneOf splits a phone identity into country code and number.
func phoneOf(id store.Identity) (countryCode, number string) {
	v := string(id)[len("phone:"):]
	for i := 0; i < len(v); i++ {
		if v[i] == ':' {
			return v[:i], v[i+1:]
		}
	}
	return "", v
}

// create makes a new account u holding ids, with the session ns: it
// claims every identity, then inserts the account. It returns nil, with
// nothing left claimed, when another request claimed one of them first:
// the caller looks again and finds that request's account.
func (r *Resolver) create(ctx context.Context, u *store.User, ids []store.Identity, ns *NewSession) (*store.User, error) {
	now := r.now()
	var claimed []store.Identity
	for _, id := range ids {
		err := r.store.Claim(ctx, id, u.ID, now)
		if err != nil {
			if gerr := r.giveUpCreation(ctx, u.ID, claimed); gerr != nil {
				return nil, gerr
			}
			if errors.Is(err, store.ErrDuplicate) {
				return nil, nil
			}
			return nil, err
		}
		claimed = append(claimed, id)
	}
	if u.Nickname == "" {
		u.Nickname = GeneratedNickname()
	}
	u.Sessions = map[string]store.Session{ns.ID: ns.Record}
	err := r.store.CreateUser(ctx, u)
	if errors.Is(err, store.ErrDuplicate) {
		// Another request met our claims first, took us for cut short, and
		// completed the account with one of them: finish our creation.
		return r.finishCreation(ctx, u.ID, ids, ns)
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// giveUpCreation undoes the claims a creation made before one of its
// claims failed. Another request may have met them meanwhile, taken the
// creation for cut short and completed the account with them: so the
// account's id is first sealed with a tombstone (removing the account if
// it was completed), and only then are the claims released. An account
// that can never hold all it was meant to is never left holding a part.
// If the seal fails, the claims stay, as after a crash.
func (r *Resolver) giveUpCreation(ctx context.Context, id bson.ObjectID, claimed []store.Identity) error {
	if len(claimed) == 0 {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	completed, err := r.store.SealUser(ctx, id, r.now())
	if err != nil {
		return err
	}
	if completed {
		logging.FromContext(ctx).Warn("account completed from a creation that was then given up: removed", "userId", id.Hex())
	}
	r.releaseAll(ctx, claimed, id)
	return nil
}

// finishCreation adds to an account, completed by another request, the
// identities this request claimed for it, and logs into it.
func (r *Resolver) finishCreation(ctx context.Context, id bson.ObjectID, ids []store.Identity, ns *NewSession) (*store.User, error) {
	u, err := r.store.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	want := *u
	for _, i := range ids {
		setIdentity(&want, i)
	}
	if want.HasPhone() && !u.HasPhone() {
		if u, err = r.store.SetPhone(ctx, id, want.CountryCode, want.Phone, "", r.now()); err != nil {
			return nil, err
		}
	}
	switch {
	case want.HasWeChat() && !u.HasWeChat():
		u, err = r.store.SetWeChat(ctx, id, *want.WeChat, r.now())
	case want.HasWeChat() && want.WeChat.UnionID != "" && u.WeChat.UnionID == "":
		u, err = r.store.AddUnionID(ctx, id, u.WeChat.OpenID, want.WeChat.UnionID, r.now())
	}
	if err != nil {
		return nil, err
	}
	return r.attach(ctx, id, ids, ns)
}

// releaseAll gives back claims this request made, on its way out.
func (r *Resolver) releaseAll(ctx context.Context, ids []store.Identity, userID bson.ObjectID) {
	ctx = context.WithoutCancel(ctx)
	for _, id := range ids {
		if _, err := r.store.Release(ctx, id, userID); err != nil {
			logging.FromContext(ctx).Error("claim not released; the next request that meets it will",
				"identity", id.Kind(), "cause", err.Error())
		}
	}
}

// attach stores the session ns in account id, which is expected to hold
// every identity of want, and returns the account, in one round trip. When
// the account turns out not to (missing, deleted, or no longer holding one
// of them), it takes the session out again and returns nil: the caller
// looks again. A disabled account is refused.
func (r *Resolver) attach(ctx context.Context, id bson.ObjectID, want []store.Identity, ns *NewSession) (*store.User, error) {
	u, err := r.store.AddSession(ctx, id, ns.ID, ns.Record)
	if errors.Is(err, store.ErrUserNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ok := !u.IsDeleted()
	for _, w := range want {
		ok = ok && u.Holds(w)
	}
	if !ok || u.IsDisabled() {
		if _, err := r.store.RemoveSessions(ctx, id, ns.ID); err != nil {
			return nil, err
		}
		if ok {
			return nil, apierror.Disabled()
		}
		return nil, nil
	}
	r.pruneSessions(ctx, u, ns.ID)
	return u, nil
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

// looker looks at identities until what it sees is settled: each look
// reads their claims and the accounts they name, and settles what an
// interrupted request left (completing or releasing claims); a look that
// had something to settle is taken again. A request takes at most
// maxLooks looks.
type looker struct {
	r   *Resolver
	ids []store.Identity
	// known are claims read before the first look (nil: free).
	known map[store.Identity]*store.Claim
	// mine, when set, is the account linking: its own claims are not
	// settled, as linking them again finishes a link of it cut short.
	mine   *store.User
	settle *settler
	looks  int
	// rereads counts the looks in a row taken again because claims and
	// accounts were read at different moments and disagree.
	rereads int
}

// maxRereads bounds those: an account listing an identity it has no claim
// of is transient (read between a claim and its account's update), or
// data from before the upgrade, which rereading does not change.
const maxRereads = 3

func (r *Resolver) looker(known map[store.Identity]*store.Claim, ids ...store.Identity) *looker {
	return &looker{r: r, ids: ids, known: known, settle: r.settler()}
}

// next returns the next settled view of the identities.
func (l *looker) next(ctx context.Context) (map[store.Identity]holding, error) {
	for ; l.looks < maxLooks; l.looks++ {
		hs, err := l.r.lookKnowing(ctx, l.known, l.ids...)
		l.known = nil // after the first look, read everything again
		if err != nil {
			return nil, err
		}
		if !consistent(hs) && l.rereads < maxRereads {
			l.rereads++
			continue
		}
		l.rereads = 0
		view := hs
		if l.mine != nil {
			view = othersOf(hs, l.mine)
		}
		unsettled, err := l.settle.settle(ctx, view)
		if err != nil {
			return nil, err
		}
		if !unsettled {
			l.looks++
			return hs, nil
		}
	}
	return nil, apierror.Bug(errRaceLost)
}

// consistent reports whether every account in a look lists only
// identities whose claims, as read, are its own. Claims and accounts are
// read one after the other, so an account may already list an identity
// whose claim was read before it was made; deciding on such a view would
// take the identity for free, or for another's.
func consistent(hs map[store.Identity]holding) bool {
	for _, h := range hs {
		if h.user == nil {
			continue
		}
		for id, other := range hs {
			if h.user.Holds(id) && (other.claim == nil || other.claim.UserID != h.user.ID) {
				return false
			}
		}
	}
	return true
}

// errRaceLost is a bug or a storm: the identities kept changing for every
// look a request may take.
var errRaceLost = errors.New("account: identities kept changing during resolution")

// maxLooks bounds how often one request looks again; with the settle
// pauses it allows about settleWait of waiting and a few lost races.
const maxLooks = int(settleWait/settlePoll) + 10
