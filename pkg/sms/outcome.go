package sms

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Outcome is what a failed send means for the user and for the caps.
type Outcome int

const (
	// Refused: the provider sent nothing, for this number or this time.
	Refused Outcome = iota
	// Throttled: the provider's own frequency limits refused this number
	// (or the application); nothing was sent, and retrying soon will not
	// help.
	Throttled
	// Misconfigured: nothing was sent, and nothing will be until an
	// operator fixes what Fix names.
	Misconfigured
	// Unknown: the request may have reached the provider and the SMS may
	// be on its way (a timeout, a broken connection).
	Unknown
)

// SendError is a failed send: the provider's code and request id (for the
// log, never for the client) and what it means.
type SendError struct {
	Outcome   Outcome
	Code      string
	RequestID string
	// RetryAfter is when a Throttled number may be sent to again, as far
	// as the provider's limits tell.
	RetryAfter time.Duration
	// Fix says what an operator must change, for Misconfigured.
	Fix string
	Err error
}

func (e *SendError) Error() string {
	s := "sms: " + e.Code
	if e.RequestID != "" {
		s += " (request " + e.RequestID + ")"
	}
	if e.Fix != "" {
		s += ": " + e.Fix
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap exposes the underlying error.
func (e *SendError) Unwrap() error { return e.Err }

// AsSendError returns the SendError in err's chain; any other error is a
// send of Unknown outcome.
func AsSendError(err error) *SendError {
	var se *SendError
	if errors.As(err, &se) {
		return se
	}
	return &SendError{Outcome: Unknown, Code: "unknown", Err: err}
}

// china is the zone in which Tencent Cloud's daily limits restart.
var china = time.FixedZone("CST", 8*3600)

// untilTomorrow is the time from now to the next midnight in China.
func untilTomorrow(now time.Time) time.Duration {
	c := now.In(china)
	midnight := time.Date(c.Year(), c.Month(), c.Day()+1, 0, 0, 0, 0, china)
	return midnight.Sub(now)
}

// classify reads a Tencent Cloud SMS error code (of the request, or of the
// number's SendStatus), per the API's error code list.
func classify(code string, now time.Time) *SendError {
	e := &SendError{Outcome: Refused, Code: code}
	switch code {
	case "LimitExceeded.PhoneNumberThirtySecondLimit":
		e.Outcome, e.RetryAfter = Throttled, 30*time.Second
	case "LimitExceeded.PhoneNumberOneHourLimit":
		e.Outcome, e.RetryAfter = Throttled, time.Hour
	case "LimitExceeded.PhoneNumberDailyLimit", "LimitExceeded.PhoneNumberSameContentDailyLimit":
		e.Outcome, e.RetryAfter = Throttled, untilTomorrow(now)
	case "LimitExceeded.DeliveryFrequencyLimit":
		e.Outcome, e.RetryAfter = Throttled, time.Minute
	case "LimitExceeded.AppDailyLimit", "LimitExceeded.AppMainlandChinaDailyLimit", "LimitExceeded.AppCountryOrRegionDailyLimit":
		e.Outcome, e.RetryAfter = Throttled, untilTomorrow(now)
		e.Fix = "the SMS application's daily limit is reached: raise it in the SMS console (应用管理 → 基础配置)"
	case "FailedOperation.SignatureIncorrectOrUnapproved", "FailedOperation.MissingSignature",
		"FailedOperation.MissingSignatureList", "InvalidParameterValue.SignNameLengthTooLong":
		e.Outcome, e.Fix = Misconfigured, "SMS_SIGN_NAME must be an approved signature of SMS_SDK_APP_ID"
	case "FailedOperation.TemplateIncorrectOrUnapproved", "FailedOperation.MissingTemplateList",
		"FailedOperation.TemplateUnapprovedOrNotExist", "InvalidParameterValue.TemplateParameterFormatError",
		"FailedOperation.TemplateParamSetNotMatchApprovedTemplate", "InvalidParameterValue.TemplateParameterLengthLimit":
		e.Outcome, e.Fix = Misconfigured, "SMS_TEMPLATE_ID must be an approved template whose parameters are SMS_TEMPLATE_PARAMS"
	case "FailedOperation.InsufficientBalanceInSmsPackage", "UnauthorizedOperation.SerivceSuspendDueToArrears",
		"UnauthorizedOperation.ServiceSuspendDueToArrears":
		e.Outcome, e.Fix = Misconfigured, "the SMS package is used up or the account is in arrears: top up in the SMS console"
	case "InvalidParameterValue.SdkAppIdNotExist", "UnauthorizedOperation.SmsSdkAppIdVerifyFail",
		"UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny":
		e.Outcome, e.Fix = Misconfigured, "SMS_SDK_APP_ID must be an SMS application of this Tencent Cloud account"
	case "InternalError.Timeout", "ClientError.NetworkError", "ClientError.IOError", "ClientError.HttpStatusCodeError",
		"ClientError.ParseJsonError", "InternalError.RequestTimeException":
		e.Outcome = Unknown
	}
	if e.Outcome == Refused && (strings.HasPrefix(code, "AuthFailure.") || code == "ClientError.CredentialError" ||
		strings.HasPrefix(code, "UnauthorizedOperation.") || code == "InvalidParameter.InvalidRegion" ||
		strings.HasPrefix(code, "InvalidAction") || strings.HasPrefix(code, "InvalidParameter.")) {
		e.Outcome = Misconfigured
		e.Fix = fmt.Sprintf("Tencent Cloud refused the credentials or the request (%s): check TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY "+
			"or the function role's sms:SendSms permission, SMS_REGION and SMS_ENDPOINT", code)
	}
	return e
}
