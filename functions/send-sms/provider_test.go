package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// What the SMS provider said (its error codes, messages and request ids)
// and how the deployment is set up are for the log: the client sees the
// contract's code and Chinese message, and nothing of the provider.
func TestTheProvidersWordsNeverReachTheClient(t *testing.T) {
	for _, failure := range []string{
		"FailedOperation.PhoneNumberInBlacklist", "status:FailedOperation.ContainSensitiveWord",
		"status:LimitExceeded.PhoneNumberDailyLimit", "FailedOperation.TemplateIncorrectOrUnapproved",
		"FailedOperation.SignatureIncorrectOrUnapproved", "InternalError", "AuthFailure.SecretIdNotFound",
	} {
		t.Run(failure, func(t *testing.T) {
			env := functest.New(t)
			env.SMS.FailNext(failure)
			a := send(sendSMS(env), number)
			if a.Code != "SMS_SEND_FAILED" && a.Code != "SMS_LIMIT_EXCEEDED" {
				t.Fatalf("answered %s", a.Raw)
			}
			said := a.Message + " " + fmt.Sprint(a.Data)
			for _, detail := range []string{
				strings.TrimPrefix(failure, "status:"), "FailedOperation", "LimitExceeded", "InternalError", "AuthFailure",
				"failure requested", "fake-", "sms:", functest.SMSAppID, functest.TCSecretID, "SMS_", "TENCENTCLOUD",
			} {
				if strings.Contains(said, detail) {
					t.Errorf("the answer holds %q: %s", detail, a.Raw)
				}
			}
			if !strings.ContainsFunc(a.Message, func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff }) {
				t.Errorf("message %q is not the contract's Chinese sentence", a.Message)
			}
		})
	}
}
