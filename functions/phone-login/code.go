package main

import (
	"context"
	"errors"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/store"
)

// use checks code against the phone's live code and uses it up. Each try
// first takes the version of the stored code it read, by a counted delete:
// of concurrent tries on one version exactly one is judged, so a right code
// logs in once, and no burst of guesses gets more than the allowed tries.
// A wrong try puts the next version back with one more attempt counted.
// After maxAttempts wrong tries the next one voids the code
// (CODE_ATTEMPTS_EXCEEDED) and later ones find none (CODE_INVALID).
// Two round trips for a right code.
func (c codeChecker) use(ctx context.Context, phone, code string) error {
	live, err := c.store.CodeFor(ctx, phone, c.now())
	if errors.Is(err, store.ErrCodeNotFound) {
		return apierror.WrongCode(-1)
	} else if err != nil {
		return err
	}
	right := c.hasher.Matches(phone, live.Nonce, code, live.Hash)
	took, err := c.store.TakeCode(ctx, live)
	switch {
	case err != nil:
		return err
	case !took:
		// Another try judged this version first.
		return apierror.WrongCode(-1)
	case live.Attempts >= c.maxAttempts:
		return apierror.TooManyAttempts()
	case right:
		return nil
	}
	next := *live
	next.Attempts++
	if err := c.store.PutBackCode(ctx, &next); err != nil && !errors.Is(err, store.ErrDuplicate) {
		return err
	}
	// ErrDuplicate: a new code was sent meanwhile; it stands.
	return apierror.WrongCode(c.maxAttempts - next.Attempts)
}
