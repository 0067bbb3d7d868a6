package wechat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/phone"
)

// Phone is a phone number WeChat vouches for.
type Phone struct {
	CountryCode string
	// Number is the number without country code.
	Number string
}

type phoneInfo struct {
	PhoneNumber     string `json:"phoneNumber"`
	PurePhoneNumber string `json:"purePhoneNumber"`
	CountryCode     string `json:"countryCode"`
	Watermark       struct {
		AppID     string `json:"appid"`
		Timestamp int64  `json:"timestamp"`
	} `json:"watermark"`
}

// check returns the number if the watermark names this app.
func (p *phoneInfo) check(appID string) (*Phone, error) {
	if p.Watermark.AppID != appID {
		return nil, apierror.WeChatCode(fmt.Errorf("wechat phone number: watermark names another app"))
	}
	if p.PurePhoneNumber == "" || p.CountryCode == "" {
		return nil, apierror.WeChatDown(errors.New("wechat phone number: no number in the answer"))
	}
	// What WeChat vouches for is still checked before it is stored: digits
	// only, of E.164 lengths, and a mainland mobile for country code 86.
	if !digits(p.CountryCode, 1, 4) || !digits(p.PurePhoneNumber, 4, 15) ||
		(p.CountryCode == phone.CountryCode && !phone.IsMainlandMobile(p.PurePhoneNumber)) {
		return nil, apierror.BadPhoneFrom(fmt.Errorf("wechat phone number: +%q %q (masked) is not a valid number", p.CountryCode, phone.Mask(p.PurePhoneNumber)))
	}
	return &Phone{CountryCode: p.CountryCode, Number: p.PurePhoneNumber}, nil
}

// digits reports whether s is from min to max ASCII digits.
func digits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// PhoneNumber exchanges a getPhoneNumber code (e.detail.code). If WeChat
// refuses the cached access token (40001, 42001), the token is fetched
// again once.
func (c *Client) PhoneNumber(ctx context.Context, phoneCode string) (*Phone, error) {
	rejected := ""
	for attempt := 0; ; attempt++ {
		tok, err := c.accessToken(ctx, rejected)
		if err != nil {
			return nil, err
		}
		var out struct {
			errorFields
			PhoneInfo phoneInfo `json:"phone_info"`
		}
		err = c.call(ctx, "getuserphonenumber", http.MethodPost, "/wxa/business/getuserphonenumber",
			url.Values{"access_token": {tok}}, map[string]string{"code": phoneCode}, &out)
		var we *Error
		if errors.As(err, &we) && (we.Code == codeTokenInvalid || we.Code == codeTokenExpired) {
			if attempt == 0 {
				rejected = tok
				continue
			}
			return nil, apierror.Bug(fmt.Errorf("WeChat refused a freshly fetched access token: %w", we))
		}
		if err != nil {
			return nil, err
		}
		return out.PhoneInfo.check(c.appID)
	}
}
