package apierror

import (
	"errors"
	"fmt"
)

// Error is an answer the client is meant to see. Cause is for the log only.
type Error struct {
	Code Code
	// Data carries details for the client, such as the offending field or
	// the seconds to wait; nil when there are none.
	Data map[string]any
	// Cause is the internal reason, logged with the request id, never sent.
	Cause error
}

// Error describes e for logs; it never reaches a client.
func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %v", e.Code, e.Cause)
	}
	return string(e.Code)
}

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Cause }

// Status is the HTTP status of e.
func (e *Error) Status() int { return e.Code.Status() }

// Message is the end-user message of e.
func (e *Error) Message() string { return e.Code.Message() }

// outage is implemented by errors of a dependency that could not be reached
// in time, such as the store's UnavailableError.
type outage interface{ Unavailable() bool }

// As returns the *Error in err's chain; else SERVICE_UNAVAILABLE for an
// outage; else INTERNAL. Every error thus has exactly one client answer.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var o outage
	if errors.As(err, &o) && o.Unavailable() {
		return Unavailable(err)
	}
	return Bug(err)
}

func newError(code Code, cause error, data map[string]any) *Error {
	return &Error{Code: code, Cause: cause, Data: data}
}

// BadField reports a request field that is missing, of the wrong type,
// unknown or read-only. reason is a short English note for the developer.
func BadField(field, reason string) *Error {
	return newError(InvalidRequest, fmt.Errorf("field %q: %s", field, reason),
		map[string]any{"field": field, "reason": reason})
}

// BadBody reports a body that is not a JSON object.
func BadBody(reason string) *Error {
	return newError(InvalidRequest, errors.New(reason), map[string]any{"reason": reason})
}

// BadPhone reports a phone number that is not a mainland-China mobile number.
func BadPhone() *Error { return newError(InvalidPhone, nil, nil) }

// BadPhoneFrom reports a phone number from elsewhere (WeChat) that is not
// a valid one; cause says what it was.
func BadPhoneFrom(cause error) *Error { return newError(InvalidPhone, cause, nil) }

// RouteNotFound reports an unknown route.
func RouteNotFound() *Error { return newError(NotFound, nil, nil) }

// WrongMethod reports a known route called with a method it does not take.
func WrongMethod(allowed []string) *Error {
	return newError(MethodNotAllowed, nil, map[string]any{"allow": allowed})
}

// TooLarge reports a body over the size cap.
func TooLarge(limit int) *Error {
	return newError(PayloadTooLarge, nil, map[string]any{"limit": limit})
}

// Cooldown reports a resend within the cooldown; retryAfter is in seconds.
func Cooldown(retryAfter int) *Error {
	return newError(SMSCooldown, nil, map[string]any{"retryAfter": max(retryAfter, 1)})
}

// LimitExceeded reports a reached send cap; retryAfter is in seconds, or 0
// when unknown.
func LimitExceeded(retryAfter int) *Error {
	var data map[string]any
	if retryAfter > 0 {
		data = map[string]any{"retryAfter": retryAfter}
	}
	return newError(SMSLimitExceeded, nil, data)
}

// SendFailed reports that the SMS provider refused or failed.
func SendFailed(cause error) *Error { return newError(SMSSendFailed, cause, nil) }

// WithRetryAfter adds how many seconds the client should wait before
// trying again.
func (e *Error) WithRetryAfter(seconds int) *Error {
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	e.Data["retryAfter"] = max(seconds, 1)
	return e
}

// WrongCode reports an SMS code that is wrong, expired, used or never sent.
// attemptsLeft is included when the code is still live, else negative.
func WrongCode(attemptsLeft int) *Error {
	var data map[string]any
	if attemptsLeft >= 0 {
		data = map[string]any{"attemptsLeft": attemptsLeft}
	}
	return newError(CodeInvalid, nil, data)
}

// TooManyAttempts reports a code voided by too many wrong tries.
func TooManyAttempts() *Error { return newError(CodeAttemptsExceeded, nil, nil) }

// WeChatCode reports a wx.login or getPhoneNumber code WeChat rejected.
func WeChatCode(cause error) *Error { return newError(WeChatCodeInvalid, cause, nil) }

// WeChatSnapshotUser reports the virtual user of a 公众号's snapshot page
// (is_snapshotuser), which no account may be made of: the page must ask
// the person to use the full service.
func WeChatSnapshotUser(cause error) *Error {
	return newError(WeChatCodeInvalid, cause, map[string]any{"reason": "snapshotuser"})
}

// WeChatBusy reports WeChat's rate limit (45011).
func WeChatBusy(cause error) *Error { return newError(WeChatRateLimited, cause, nil) }

// WeChatDown reports WeChat busy, unreachable or too slow.
func WeChatDown(cause error) *Error { return newError(WeChatUnavailable, cause, nil) }

// Conflict reports that an identity belongs to another account; which is
// "phone" or "wechat".
func Conflict(which string) *Error {
	return newError(AccountConflict, nil, map[string]any{"conflict": which})
}

// NoOtherIdentity reports an unlink that would leave the account with no way
// to log in.
func NoOtherIdentity() *Error { return newError(LastIdentity, nil, nil) }

// NeedCaptcha reports a send that needs a captcha ticket first; appID is
// the CaptchaAppId the mini-program's captcha plugin needs.
func NeedCaptcha(appID string) *Error {
	return newError(CaptchaRequired, nil, map[string]any{"captchaAppId": appID})
}

// BadCaptcha reports a captcha ticket that was rejected, expired or used.
func BadCaptcha(cause error) *Error { return newError(CaptchaInvalid, cause, nil) }

// NotAuthenticated reports a missing, malformed, forged or revoked access
// token, or a deleted account.
func NotAuthenticated(cause error) *Error { return newError(Unauthorized, cause, nil) }

// Expired reports a well-signed access token past its expiry.
func Expired() *Error { return newError(TokenExpired, nil, nil) }

// BadRefreshToken reports an unknown, expired, revoked or reused refresh token.
func BadRefreshToken(cause error) *Error { return newError(RefreshTokenInvalid, cause, nil) }

// Disabled reports an account disabled by an operator.
func Disabled() *Error { return newError(AccountDisabled, nil, nil) }

// NeedReauth reports a change of the account's ways to log in (or its
// deletion) that needs a fresh proof of one of its identities; methods
// are the proofs that would do ("sms", "wechat").
func NeedReauth(cause error, methods []string) *Error {
	if methods == nil {
		methods = []string{}
	}
	return newError(ReauthRequired, cause, map[string]any{"methods": methods})
}

// Bug reports a bug or a misconfiguration; cause names what went wrong.
func Bug(cause error) *Error { return newError(Internal, cause, nil) }

// Unavailable reports a database that could not be reached in time.
func Unavailable(cause error) *Error { return newError(ServiceUnavailable, cause, nil) }
