// Package captcha checks Tencent Cloud Captcha tickets from the
// mini-program captcha plugin. Verifier is the one small interface; Tencent
// is its implementation through the official SDK (the same family as the
// SMS one), calling the mini-program ticket check, DescribeCaptchaMiniResult.
package captcha

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	captchaapi "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/captcha/v20190722"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/wxauth/scf-auth/pkg/config"
	"github.com/wxauth/scf-auth/pkg/tencentcloud"
)

// ErrRejected means the captcha service judged the ticket: wrong, expired,
// of another application, or used. Any other error means the service could
// not judge it.
var ErrRejected = errors.New("captcha: ticket rejected")

// Verifier checks a ticket for the user at userIP.
type Verifier interface {
	Verify(ctx context.Context, ticket, userIP string) error
	// AppID is the CaptchaAppId the mini-program's plugin shows.
	AppID() string
}

// Tencent verifies with Tencent Cloud Captcha.
type Tencent struct {
	client      *captchaapi.Client
	credentials *tencentcloud.Credentials
	appID       uint64
	secret      string
}

// ticketType is CaptchaType for mini-program tickets, fixed by the API.
const ticketType = 9

// FromConfig builds the client once, at cold start, from CAPTCHA_APP_ID,
// CAPTCHA_APP_SECRET_KEY and CAPTCHA_ENDPOINT, with the API keys or the
// function role's temporary keys, as for SMS.
func FromConfig(c *config.Config, getenv func(string) string) (*Tencent, error) {
	if err := c.RequireCaptcha(); err != nil {
		return nil, err
	}
	appID, _ := strconv.ParseUint(c.CaptchaAppID, 10, 64) // RequireCaptcha checked it
	cp, err := tencentcloud.Profile(c.CaptchaEndpoint, 5)
	if err != nil {
		return nil, err
	}
	creds := tencentcloud.NewCredentials(c.TencentSecretID, c.TencentSecretKey, getenv)
	client, err := captchaapi.NewClient(creds, "", cp)
	if err != nil {
		return nil, fmt.Errorf("captcha: %w", err)
	}
	return &Tencent{client: client, credentials: creds, appID: appID, secret: c.CaptchaAppSecretKey}, nil
}

// AppID implements Verifier.
func (t *Tencent) AppID() string { return strconv.FormatUint(t.appID, 10) }

// Verify implements Verifier. The ticket is checked against the client's
// IP, as the platform saw it.
func (t *Tencent) Verify(ctx context.Context, ticket, userIP string) error {
	if !t.credentials.Available() {
		return errors.New("captcha: no Tencent Cloud credentials: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or give the function a role")
	}
	req := captchaapi.NewDescribeCaptchaMiniResultRequest()
	req.CaptchaType = common.Uint64Ptr(ticketType)
	req.Ticket = common.StringPtr(ticket)
	req.UserIp = common.StringPtr(userIP)
	req.CaptchaAppId = common.Uint64Ptr(t.appID)
	req.AppSecretKey = common.StringPtr(t.secret)
	resp, err := t.client.DescribeCaptchaMiniResultWithContext(ctx, req)
	if err != nil {
		var sdkErr *tcerr.TencentCloudSDKError
		if errors.As(err, &sdkErr) {
			return fmt.Errorf("captcha: %s (request %s)", sdkErr.GetCode(), sdkErr.GetRequestId())
		}
		return fmt.Errorf("captcha: request failed: %w", err)
	}
	if resp.Response == nil || resp.Response.CaptchaCode == nil {
		return errors.New("captcha: answer without CaptchaCode")
	}
	return judge(*resp.Response.CaptchaCode, deref(resp.Response.CaptchaMsg))
}

// judge reads CaptchaCode, per the API's documentation: 1 is a good
// ticket; the codes about the ticket itself reject it; the rest (16, 26,
// 31, 100: the application's id, an internal error, no package or arrears,
// a parameter) are the service's or the configuration's, not the user's.
func judge(code int64, msg string) error {
	switch code {
	case 1:
		return nil
	case 7, 8, 10, 15, 21, 25:
		return fmt.Errorf("%w: CaptchaCode %d %s", ErrRejected, code, msg)
	case 16:
		return fmt.Errorf("captcha: CaptchaCode 16 %s: check CAPTCHA_APP_ID", msg)
	case 31:
		return fmt.Errorf("captcha: CaptchaCode 31 %s: the captcha package is used up or the account is in arrears", msg)
	}
	return fmt.Errorf("captcha: CaptchaCode %d %s", code, msg)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
