package smscode

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/otp"
	"github.com/wxauth/scf-auth/pkg/store"
)

// Checker uses up SMS codes.
type Checker struct {
	store       *store.Store
	keys        Keys
	hasher      *otp.Hasher
	maxAttempts int
	now         func() time.Time
}

// NewChecker returns a checker allowing maxAttempts wrong tries per code.
func NewChecker(s *store.Store, keys Keys, hasher *otp.Hasher, maxAttempts int, now func() time.Time) *Checker {
	return &Checker{store: s, keys: keys, hasher: hasher, maxAttempts: maxAttempts, now: now}
}

// Use checks code against the phone's code and uses it up, in one round
// trip when it is right. Each try takes the version of the code it judges
// (store.TakeCode), so of concurrent tries exactly one is judged per
// version: a right code logs in once, and no burst of guesses gets more
// than the allowed tries. A wrong try puts the next version back with one
// more attempt counted. After maxAttempts wrong tries the next one voids
// the code (CODE_ATTEMPTS_EXCEEDED) and later ones find none
// (CODE_INVALID). owner, when known, is recorded as the phone's account.
func (c *Checker) Use(ctx context.Context, number, code string, owner *bson.ObjectID) error {
	return c.use(ctx, number, code, owner, false)
}

// spentWindow is how long after a code was taken a try with that same
// code still proves the number, for a link (UseToLink).
const spentWindow = 3 * time.Second

// UseToLink is Use for linking the number to an account: a try with the
// right code that another request took a moment ago (within spentWindow,
// and within the attempt rules) still proves the number. Of two accounts
// linking one number with one code at once, both prove it, and the link
// decides: one gets it, the other ACCOUNT_CONFLICT, not CODE_INVALID.
// Nothing else is granted: the code had been used to prove the same
// number.
func (c *Checker) UseToLink(ctx context.Context, number, code string) error {
	return c.use(ctx, number, code, nil, true)
}

func (c *Checker) use(ctx context.Context, number, code string, owner *bson.ObjectID, toLink bool) error {
	if !otp.WellFormed(code) {
		// It cannot be right, so it is not counted as a try.
		return apierror.WrongCode(-1)
	}
	key := c.keys.Phone(number)
	live, state, err := c.store.TakeCode(ctx, key, owner, c.now())
	switch {
	case errors.Is(err, store.ErrCodeNotFound) && toLink && justSpent(state, c.now()):
		return c.judgeSpent(ctx, key, number, code)
	case errors.Is(err, store.ErrCodeNotFound):
		return apierror.WrongCode(-1)
	case err != nil:
		return err
	case !c.now().Before(live.ExpiresAt):
		return apierror.WrongCode(-1)
	case live.Attempts >= c.maxAttempts:
		return apierror.TooManyAttempts()
	case c.hasher.Matches(number, live.Nonce, code, live.Hash):
		return nil
	}
	next := *live
	next.Attempts++
	if err := c.store.PutBackCode(ctx, key, next); err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	// ErrConflict: a new code was sent meanwhile; it stands.
	return apierror.WrongCode(c.maxAttempts - next.Attempts)
}

func justSpent(state *store.PhoneSMS, now time.Time) bool {
	return state != nil && state.Spent != nil && state.SpentAt != nil && now.Sub(*state.SpentAt) <= spentWindow
}

// judgeSpent judges a try against the code just taken, counting it.
func (c *Checker) judgeSpent(ctx context.Context, key, number, code string) error {
	spent, err := c.store.JudgeSpent(ctx, key)
	switch {
	case errors.Is(err, store.ErrCodeNotFound):
		return apierror.WrongCode(-1)
	case err != nil:
		return err
	case spent.Attempts < c.maxAttempts && c.now().Before(spent.ExpiresAt) && c.hasher.Matches(number, spent.Nonce, code, spent.Hash):
		return nil
	}
	return apierror.WrongCode(-1)
}
