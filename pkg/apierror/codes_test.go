package apierror_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/wxauth/scf-auth/pkg/apierror"
)

// contract is the error table of API.md §2, restated: a change to a code's
// status is a change of the contract, made in both places or in neither.
var contract = map[apierror.Code]int{
	apierror.OK: 200, apierror.InvalidRequest: 400, apierror.InvalidPhone: 400, apierror.NotFound: 404,
	apierror.MethodNotAllowed: 405, apierror.PayloadTooLarge: 413, apierror.SMSCooldown: 429,
	apierror.SMSLimitExceeded: 429, apierror.SMSSendFailed: 502, apierror.CodeInvalid: 401,
	apierror.CodeAttemptsExceeded: 429, apierror.WeChatCodeInvalid: 401, apierror.WeChatRateLimited: 429,
	apierror.WeChatUnavailable: 503, apierror.AccountConflict: 409, apierror.LastIdentity: 409,
	apierror.CaptchaRequired: 428, apierror.CaptchaInvalid: 403, apierror.Unauthorized: 401,
	apierror.TokenExpired: 401, apierror.RefreshTokenInvalid: 401, apierror.AccountDisabled: 403,
	apierror.ReauthRequired: 403, apierror.Internal: 500, apierror.ServiceUnavailable: 503,
}

// Every code answers the contract's status and, but OK, a short Chinese
// sentence an app can show the user as it is: no English, no code names.
func TestEveryCodeHasTheContractsStatusAndAChineseMessage(t *testing.T) {
	for code, status := range contract {
		if got := code.Status(); got != status {
			t.Errorf("%s answers %d, the contract says %d", code, got, status)
		}
		if code == apierror.OK {
			continue
		}
		m := code.Message()
		if !strings.ContainsFunc(m, func(r rune) bool { return unicode.Is(unicode.Han, r) }) ||
			strings.ContainsFunc(m, func(r rune) bool { return r < 0x80 && unicode.IsLetter(r) }) || len([]rune(m)) > 30 {
			t.Errorf("%s: message %q is not a short Chinese sentence", code, m)
		}
	}
	if got := apierror.Code("NO_SUCH_CODE").Status(); got != 500 {
		t.Errorf("an unknown code answers %d, want 500", got)
	}
}
