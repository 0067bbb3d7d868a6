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
// trip when it is right. Each try takes the code it judges and is counted
// in the same step (store.TakeCode), so of concurrent tries exactly one is
// judged at a time: a right code logs in once, and no burst of guesses is
// judged more than maxAttempts times. A wrong try puts the code back. The
// try after maxAttempts judged ones voids the code (CODE_ATTEMPTS_EXCEEDED)
// and later ones find none (CODE_INVALID). owner, when known, is recorded
// as the phone's account.
func (c *Checker) Use(ctx context.Context, number, code string, owner *bson.ObjectID) error {
	return c.use(ctx, number, code, owner, false)
}

// spentWindow is how long after a code was taken a try with that same
// code still proves the number, for a link (UseToLink).
const spentWindow = 3 * time.Second

// UseToLink is Use for linking the number to an account: a try with the
// right code that another request took a moment ago (within spentWindow)
// still proves the number. Of two accounts linking one number with one
// code at once, both prove it, and the link decides: one gets it, the
// other ACCOUNT_CONFLICT, not CODE_INVALID. Such tries count against the
// code's attempts like any other, so the window grants no extra guesses.
func (c *Checker) UseToLink(ctx context.Context, number, code string) error {
	return c.use(ctx, number, code, nil, true)
}

func (c *Checker) use(ctx context.Context, number, code string, owner *bson.ObjectID, toLink bool) error {
	if !otp.WellFormed(code) {
		// It cannot be right, so it is not counted as a try.
		return apierror.WrongCode(-1)
	}
	key := c.keys.Phone(number)
	live, judged, err := c.store.TakeCode(ctx, key, owner, c.now())
	switch {
	case errors.Is(err, store.ErrCodeNotFound) && toLink:
		return c.judgeSpent(ctx, key, number, code)
	case errors.Is(err, store.ErrCodeNotFound):
		return apierror.WrongCode(-1)
	case err != nil:
		return err
	case !c.now().Before(live.ExpiresAt):
		return apierror.WrongCode(-1)
	case judged >= c.maxAttempts:
		return apierror.TooManyAttempts()
	case c.hasher.Matches(number, live.Nonce, code, live.Hash):
		return nil
	}
	if err := c.store.PutBackCode(ctx, key, *live); err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	// ErrConflict: a new code was sent meanwhile; it stands.
	return apierror.WrongCode(c.maxAttempts - judged - 1)
}

// judgeSpent judges a try against the code taken a moment ago, if it was
// taken within spentWindow, counting it as a try of that code.
func (c *Checker) judgeSpent(ctx context.Context, key, number, code string) error {
	state, err := c.store.PhoneSMSOf(ctx, key)
	if err != nil {
		return err
	}
	if state.Spent == nil || state.SpentAt == nil || c.now().Sub(*state.SpentAt) > spentWindow {
		return apierror.WrongCode(-1)
	}
	spent, judged, err := c.store.JudgeSpent(ctx, key)
	switch {
	case errors.Is(err, store.ErrCodeNotFound):
		return apierror.WrongCode(-1)
	case err != nil:
		return err
	case judged >= c.maxAttempts || !c.now().Before(spent.ExpiresAt):
		return apierror.WrongCode(-1)
	case c.hasher.Matches(number, spent.Nonce, code, spent.Hash):
		return nil
	}
	return apierror.WrongCode(c.maxAttempts - judged - 1)
}
