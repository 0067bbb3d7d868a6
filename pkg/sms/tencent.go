package sms

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	smsapi "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/sms/v20210111"

	"github.com/wxauth/scf-auth/pkg/config"
)

// ErrNoCredentials means neither API keys nor a function role's temporary
// keys are available.
var ErrNoCredentials = errors.New("sms: no Tencent Cloud credentials: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or give the function a role")

// Tencent sends through Tencent Cloud SMS (API version 2021-01-11).
type Tencent struct {
	client      *smsapi.Client
	credentials *roleOrKeys
	appID       string
	signName    string
	templateID  string
	params      []string
}

// NewTencent builds the SDK client once, at cold start. getenv reads the
// function role's temporary keys, which the platform refreshes, at each
// send; API keys from the configuration win when set.
func NewTencent(c *config.Config, getenv func(string) string) (*Tencent, error) {
	scheme, host, err := config.SplitEndpoint(c.SMSEndpoint)
	if err != nil {
		return nil, err
	}
	cp := profile.NewClientProfile()
	cp.HttpProfile.Endpoint = host
	cp.HttpProfile.Scheme = scheme
	cp.HttpProfile.ReqTimeout = 10
	// The region breaker would fail over to the public endpoint, which is
	// wrong for a configured endpoint and useless inside SCF.
	cp.DisableRegionBreaker = true
	creds := &roleOrKeys{id: c.TencentSecretID, key: c.TencentSecretKey, getenv: getenv}
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
// the number.
func (t *Tencent) Send(ctx context.Context, m Message) error {
	if id, key, _ := t.credentials.GetCredential(); id == "" || key == "" {
		return ErrNoCredentials
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
			return fmt.Errorf("sms: tencent refused the request: %s (request %s)", sdkErr.GetCode(), sdkErr.GetRequestId())
		}
		return fmt.Errorf("sms: tencent request failed: %w", err)
	}
	if resp.Response == nil || len(resp.Response.SendStatusSet) != 1 || resp.Response.SendStatusSet[0] == nil {
		return errors.New("sms: tencent answered no status for the number")
	}
	status := resp.Response.SendStatusSet[0]
	if status.Code == nil || *status.Code != "Ok" {
		code := "(none)"
		if status.Code != nil {
			code = *status.Code
		}
		requestID := ""
		if resp.Response.RequestId != nil {
			requestID = *resp.Response.RequestId
		}
		return fmt.Errorf("sms: tencent did not send to the number: %s (request %s)", code, requestID)
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

// roleOrKeys gives the SDK the configured API keys, or else the function
// role's temporary keys as the platform currently provides them.
type roleOrKeys struct {
	id, key string
	getenv  func(string) string
}

func (c *roleOrKeys) GetCredential() (string, string, string) {
	if c.id != "" && c.key != "" {
		return c.id, c.key, ""
	}
	return c.getenv("TENCENTCLOUD_SECRETID"), c.getenv("TENCENTCLOUD_SECRETKEY"), c.getenv("TENCENTCLOUD_SESSIONTOKEN")
}

func (c *roleOrKeys) GetSecretId() string  { id, _, _ := c.GetCredential(); return id }
func (c *roleOrKeys) GetSecretKey() string { _, key, _ := c.GetCredential(); return key }
func (c *roleOrKeys) GetToken() string     { _, _, token := c.GetCredential(); return token }
