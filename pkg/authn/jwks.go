package authn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/wxauth/scf-auth/pkg/token"
)

// maxJWKSBytes is the largest JWK Set read: a few keys take a few hundred
// bytes each.
const maxJWKSBytes = 64 << 10

// remoteKeys is the login's JWK Set, fetched from its URL at first need,
// kept for maxAge, and fetched again when a token names a kid it lacks,
// at most once per floor. Requests that need a fetch while one is under
// way wait for it rather than fetch again. When a fetch fails the keys
// fetched before keep verifying, so an outage of the login does not stop
// the team's functions; a kid that only a fetch could have found is then
// answered as unavailable, not as a forgery.
type remoteKeys struct {
	url    string
	client *http.Client
	maxAge time.Duration
	floor  time.Duration
	now    func() time.Time

	mu        sync.RWMutex // guards set and fetchedAt
	set       *token.KeySet
	fetchedAt time.Time

	fetching  sync.Mutex // held during a fetch; guards attempted and lastErr
	attempted time.Time
	lastErr   error
}

func newRemoteKeys(opts Options) *remoteKeys {
	r := &remoteKeys{url: opts.JWKSURL, client: opts.HTTPClient, maxAge: opts.KeysMaxAge, floor: opts.RefetchFloor, now: opts.Now}
	if r.client == nil {
		r.client = &http.Client{Timeout: 5 * time.Second}
	}
	if r.maxAge <= 0 {
		r.maxAge = 5 * time.Minute
	}
	if r.floor <= 0 {
		r.floor = 30 * time.Second
	}
	return r
}

// unavailableError is a JWK Set that could not be had; apierror answers
// it SERVICE_UNAVAILABLE.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string     { return "authn: JWK Set unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() error     { return e.err }
func (e *unavailableError) Unavailable() bool { return true }

// VerificationKey implements token.Keyring.
func (r *remoteKeys) VerificationKey(ctx context.Context, alg, kid string) (any, error) {
	set, fetchedAt := r.current()
	if set != nil && r.now().Sub(fetchedAt) < r.maxAge {
		if key, err := set.VerificationKey(ctx, alg, kid); err == nil {
			return key, nil
		}
	}
	set, err := r.refetch(ctx, fetchedAt)
	if set != nil {
		if key, keyErr := set.VerificationKey(ctx, alg, kid); keyErr == nil {
			return key, nil
		}
	}
	if err != nil {
		return nil, &unavailableError{err}
	}
	return nil, token.ErrUnknownKey
}

func (r *remoteKeys) current() (*token.KeySet, time.Time) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.set, r.fetchedAt
}

// refetch fetches the set again unless another request did since seen, or
// the last attempt was less than floor ago; it returns the newest set it
// has and the error of the attempt that would have made it newer.
func (r *remoteKeys) refetch(ctx context.Context, seen time.Time) (*token.KeySet, error) {
	r.fetching.Lock()
	defer r.fetching.Unlock()
	set, fetchedAt := r.current()
	if fetchedAt.After(seen) {
		return set, nil
	}
	now := r.now()
	if !r.attempted.IsZero() && now.Sub(r.attempted) < r.floor {
		return set, r.lastErr
	}
	r.attempted = now
	fresh, err := r.fetch(ctx)
	r.lastErr = err
	if err != nil {
		return set, err
	}
	r.mu.Lock()
	r.set, r.fetchedAt = fresh, now
	r.mu.Unlock()
	return fresh, nil
}

func (r *remoteKeys) fetch(ctx context.Context) (*token.KeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s answered %d", r.url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	switch {
	case err != nil:
		return nil, err
	case len(body) > maxJWKSBytes:
		return nil, errors.New("the JWK Set is larger than 64 KiB")
	}
	return token.ParseJWKSet(body)
}
