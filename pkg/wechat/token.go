package wechat

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/store"
)

// Token cache timing.
const (
	// refreshBefore is how long before expiry a token is replaced: in its
	// last five minutes stable_token hands out the next one.
	refreshBefore = 5 * time.Minute
	// leaseFor bounds how long one instance may take to fetch a token
	// before another may try.
	leaseFor = 10 * time.Second
	// pollEvery is how often a waiting instance looks for the new token.
	pollEvery = 100 * time.Millisecond
)

// AccessToken returns a valid access token. Every instance shares the
// cached one; when it is missing or due, one instance (the holder of the
// lease) fetches the next from stable_token and the others wait for it, so
// a storm of cold starts fetches it about once. cgi-bin/token is never
// used: each call to it would invalidate the token the others hold.
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	return c.accessToken(ctx, "")
}

// accessToken is AccessToken refusing the token rejected, which WeChat
// just answered 40001 or 42001 for.
func (c *Client) accessToken(ctx context.Context, rejected string) (string, error) {
	for {
		tok, state, err := c.cached(ctx, rejected)
		if err != nil || state == fresh {
			return tok, err
		}
		now := c.now()
		err = c.cache.AcquireTokenLease(ctx, c.appID, c.owner, now, now.Add(leaseFor))
		switch {
		case err == nil:
			return c.fetchHoldingLease(ctx, rejected)
		case !errors.Is(err, store.ErrDuplicate):
			return "", err
		case state == usable:
			// Another instance is fetching the next token; this one has not
			// expired yet.
			return tok, nil
		}
		select {
		case <-ctx.Done():
			return "", apierror.WeChatDown(errors.New("wechat: gave up waiting for another instance's access token"))
		case <-time.After(pollEvery):
		}
	}
}

// tokenState is how good the cached token is.
type tokenState int

const (
	missing tokenState = iota // none, expired, or the one WeChat rejected
	usable                    // valid, but due to be replaced
	fresh                     // valid for more than refreshBefore
)

func (c *Client) cached(ctx context.Context, rejected string) (string, tokenState, error) {
	t, err := c.cache.WeChatTokenFor(ctx, c.appID)
	switch {
	case errors.Is(err, store.ErrTokenNotFound):
		return "", missing, nil
	case err != nil:
		return "", missing, err
	}
	now := c.now()
	switch {
	case t.Token == rejected || !now.Before(t.ExpiresAt):
		return "", missing, nil
	case now.Before(t.ExpiresAt.Add(-refreshBefore)):
		return t.Token, fresh, nil
	}
	return t.Token, usable, nil
}

func (c *Client) fetchHoldingLease(ctx context.Context, rejected string) (string, error) {
	defer func() { _ = c.cache.ReleaseTokenLease(context.WithoutCancel(ctx), c.appID, c.owner) }()
	// The previous holder may have saved a token after we last looked.
	if tok, state, err := c.cached(ctx, rejected); err != nil || state == fresh {
		return tok, err
	}
	var out struct {
		errorFields
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	body := map[string]any{"grant_type": "client_credential", "appid": c.appID, "secret": c.secret, "force_refresh": false}
	if err := c.call(ctx, "stable_token", http.MethodPost, "/cgi-bin/stable_token", nil, body, &out); err != nil {
		return "", err
	}
	if out.AccessToken == "" || out.ExpiresIn <= 0 {
		return "", apierror.WeChatDown(errors.New("wechat stable_token: answer without a token"))
	}
	now := c.now()
	t := &store.WeChatToken{AppID: c.appID, Token: out.AccessToken, FetchedAt: now, ExpiresAt: now.Add(time.Duration(out.ExpiresIn) * time.Second)}
	if err := c.cache.SaveWeChatToken(ctx, t); err != nil {
		return "", err
	}
	return out.AccessToken, nil
}
