package wechat

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"time"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/config"
	"github.com/wxauth/scf-auth/pkg/store"
)

// TokenCache keeps the access token where every instance sees it, and
// elects the one instance that fetches a new one.
type TokenCache interface {
	WeChatTokenFor(ctx context.Context, appID string) (*store.WeChatToken, error)
	SaveWeChatToken(ctx context.Context, t *store.WeChatToken) error
	AcquireTokenLease(ctx context.Context, appID, owner string, now, expiresAt time.Time) error
	ReleaseTokenLease(ctx context.Context, appID, owner string) error
}

// Client calls WeChat for one mini-program. Build it once per instance.
type Client struct {
	base   string
	appID  string
	secret string
	// kind is the app's kind (config.KindMiniProgram…); configVar the
	// variable that configured it, named when WeChat rejects the app.
	kind, configVar string
	http            *http.Client
	cache           TokenCache
	now             func() time.Time
	// owner names this instance when it holds the token lease.
	owner string
}

// New returns a client for the app at base (WECHAT_API_BASE).
func New(base, appID, secret string, cache TokenCache, httpClient *http.Client, now func() time.Time) *Client {
	if httpClient == nil {
		httpClient = newHTTPClient()
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &Client{base: base, appID: appID, secret: secret, kind: config.KindMiniProgram, configVar: "WECHAT_APPID",
		http: httpClient, cache: cache, now: now, owner: hex.EncodeToString(b[:])}
}

// AppID is the mini-program this client speaks for.
func (c *Client) AppID() string { return c.appID }

// Timeouts of one call.
const (
	maxAttemptTimeout = 5 * time.Second
	minRetryBudget    = 500 * time.Millisecond
	maxResponse       = 64 << 10
)

// call performs one WeChat API call, retrying once on a network error, an
// HTTP 5xx or errcode -1, and decodes the JSON answer into out whatever its
// Content-Type (jscode2session says text/plain). out must embed errorFields.
func (c *Client) call(ctx context.Context, api, method, path string, query url.Values, body any, out interface{ wechatError() *Error }) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return apierror.Bug(err)
		}
	}
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		if attempt > 0 && !hasBudget(ctx) {
			break
		}
		lastErr = c.once(ctx, method, path, query, payload, out, attempt)
		var permanent *permanentError
		if errors.As(lastErr, &permanent) {
			return apierror.WeChatDown(fmt.Errorf("wechat %s: %w", api, lastErr))
		}
		if lastErr == nil {
			if e := out.wechatError(); e != nil {
				e.API = api
				if e.Code == codeBusy {
					lastErr = e
					continue
				}
				return c.classify(e)
			}
			return nil
		}
	}
	var e *Error
	if errors.As(lastErr, &e) {
		return c.classify(e)
	}
	return apierror.WeChatDown(fmt.Errorf("wechat %s: %w", api, lastErr))
}

func (c *Client) once(ctx context.Context, method, path string, query url.Values, payload []byte, out any, attempt int) error {
	ctx, cancel := context.WithTimeout(ctx, attemptTimeout(ctx, attempt))
	defer cancel()
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return stripURL(err)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return stripURL(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return stripURL(err)
	}
	if resp.StatusCode != http.StatusOK {
		return &permanentError{fmt.Sprintf("HTTP %d", resp.StatusCode)}
	}
	// Decode into a zeroed answer: a retry must not inherit the first
	// attempt's errcode.
	v := reflect.ValueOf(out).Elem()
	v.Set(reflect.Zero(v.Type()))
	if err := json.Unmarshal(raw, out); err != nil {
		return &permanentError{"answer is not JSON: " + err.Error()}
	}
	return nil
}

// permanentError is a failure a retry would repeat: WeChat answered, but
// not with what the API promises.
type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

// attemptTimeout leaves room for the retry: the first attempt gets half of
// what remains of the invocation, at most maxAttemptTimeout.
func attemptTimeout(ctx context.Context, attempt int) time.Duration {
	deadline, ok := ctx.Deadline()
	if !ok {
		return maxAttemptTimeout
	}
	remaining := time.Until(deadline)
	if attempt == 0 {
		remaining /= 2
	}
	return min(max(remaining, time.Millisecond), maxAttemptTimeout)
}

func hasBudget(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	return ctx.Err() == nil && (!ok || time.Until(deadline) > minRetryBudget)
}

// stripURL drops the URL from a transport error: it carries the secret or
// the access token.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s request: %w", ue.Op, ue.Err)
	}
	return err
}

// errorFields are the error members of every WeChat answer.
type errorFields struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

func (f *errorFields) wechatError() *Error {
	if f.ErrCode == 0 {
		return nil
	}
	return &Error{Code: f.ErrCode, Msg: f.ErrMsg}
}

// newHTTPClient is the HTTP client of WeChat calls: a few connections
// kept for a warm instance's next calls.
func newHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: true,
	}}
}
