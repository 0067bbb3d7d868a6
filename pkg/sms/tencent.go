package sms

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	smsapi "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/sms/v20210111"

	"github.com/wxauth/scf-auth/pkg/config"
	"github.com/wxauth/scf-auth/pkg/tencentcloud"
)

// errNoCredentials means neither API keys nor a function role's temporary
// keys are available.
var errNoCredentials = &SendError{Outcome: Misconfigured, Code: "no credentials",
	Fix: "set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or give the function a role allowed sms:SendSms"}

// Tencent sends through Tencent Cloud SMS (API version 2021-01-11).
type Tencent struct {
	client      *smsapi.Client
	credentials *tencentcloud.Credentials
	appID       string
	signName    string
	templateID  string
	params      []string
}

// NewTencent builds the SDK client once, at cold start. getenv reads the
// function role's temporary keys, which the platform refreshes, at each
// send; API keys from the configuration win when set.
func NewTencent(c *config.Config, getenv func(string) string) (*Tencent, error) {
	cp, err := tencentcloud.Profile(c.SMSEndpoint, 10)
	if err != nil {
		return nil, err
	}
	creds := tencentcloud.NewCredentials(c.TencentSecretID, c.TencentSecretKey, getenv)
	client, err := smsapi.NewClient(creds, c.SMSRegion, cp)
	if err != nil {
		return nil, fmt.Errorf("sms: %w", err)
	}
	return &Tencent{
		client: client, credentials: creds,
		appID: c.SMSSdkAppID, signName: c.SMSSignName, templateID: c.SMSTemplateID,
		params: c.SMSTemplateParams,
	}, nil
}

// Send sends one code and checks the number's own status, not only the
// request's: Tencent answers a request as a success even when it refused
// the number. A failure is a *SendError saying what it means.
func (t *Tencent) Send(ctx context.Context, m Message) error {
	if !t.credentials.Available() {
		return errNoCredentials
	}
	req := smsapi.NewSendSmsRequest()
	req.PhoneNumberSet = common.StringPtrs([]string{"+86" + m.Phone})
	req.SmsSdkAppId = common.StringPtr(t.appID)
	req.SignName = common.StringPtr(t.signName)
	req.TemplateId = common.StringPtr(t.templateID)
	req.TemplateParamSet = common.StringPtrs(t.templateParams(m))

	resp, err := t.client.SendSmsWithContext(ctx, req)
	if err != nil {
		var sdkErr *tcerr.TencentCloudSDKError
		if errors.As(err, &sdkErr) {
			e := classify(sdkErr.GetCode(), time.Now())
			e.RequestID = sdkErr.GetRequestId()
			if e.Outcome == Unknown {
				e.Err = errors.New(sdkErr.GetMessage())
			}
			return e
		}
		return &SendError{Outcome: Unknown, Code: "request failed", Err: err}
	}
	requestID := ""
	if resp.Response != nil && resp.Response.RequestId != nil {
		requestID = *resp.Response.RequestId
	}
	if resp.Response == nil || len(resp.Response.SendStatusSet) != 1 || resp.Response.SendStatusSet[0] == nil {
		return &SendError{Outcome: Unknown, Code: "no status for the number", RequestID: requestID}
	}
	status := resp.Response.SendStatusSet[0]
	if status.Code == nil || *status.Code != "Ok" {
		code := "(none)"
		if status.Code != nil {
			code = *status.Code
		}
		e := classify(code, time.Now())
		e.RequestID = requestID
		return e
	}
	return nil
}

func (t *Tencent) templateParams(m Message) []string {
	out := make([]string, len(t.params))
	for i, p := range t.params {
		switch p {
		case config.TemplateParamCode:
			out[i] = m.Code
		case config.TemplateParamMinutes:
			out[i] = strconv.Itoa(int(math.Ceil(m.TTL.Minutes())))
		}
	}
	return out
}
