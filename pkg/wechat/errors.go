package wechat

import (
	"fmt"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/config"
)

// Error is an error WeChat answered.
type Error struct {
	API  string
	Code int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("wechat %s: errcode %d: %s", e.API, e.Code, e.Msg) }

// WeChat error codes this client acts on.
const (
	codeBusy             = -1
	codeTokenInvalid     = 40001
	codeInvalidAppID     = 40013
	codeInvalidCode      = 40029
	codeInvalidSecret    = 40125
	codeCodeUsed         = 40163
	codeIPNotAllowed     = 40164
	codeHighRiskUser     = 40226
	codeMissingAppID     = 41002
	codeMissingSecret    = 41004
	codeTokenExpired     = 42001
	codeOAuthCodeExpired = 42003
	codeDailyLimit       = 45009
	codeRateLimited      = 45011
	codeAPIUnauthorized  = 48001
)

// classify maps an error WeChat answered to the contract's codes. This is
// the only place that does. A rejected app names the variable that
// configured it.
func (c *Client) classify(e *Error) error {
	switch e.Code {
	case codeInvalidCode, codeCodeUsed, codeHighRiskUser, codeOAuthCodeExpired:
		return apierror.WeChatCode(e)
	case codeRateLimited, codeDailyLimit:
		return apierror.WeChatBusy(e)
	case codeInvalidAppID, codeMissingAppID:
		return apierror.Bug(fmt.Errorf("%w (%v)", &config.Error{Var: c.appVar(), Reason: "names an app WeChat rejected: " + c.appID}, e))
	case codeInvalidSecret, codeMissingSecret:
		return apierror.Bug(fmt.Errorf("%w (%v)", &config.Error{Var: c.secretVar(), Reason: "was rejected by WeChat for " + c.appID}, e))
	case codeIPNotAllowed, codeAPIUnauthorized:
		return apierror.Bug(fmt.Errorf("WeChat refuses this server (check the API IP allowlist and the app's permissions): %w", e))
	}
	return apierror.WeChatDown(e)
}

func (c *Client) appVar() string { return c.configVar }

func (c *Client) secretVar() string {
	if c.configVar == "WECHAT_APPID" {
		return "WECHAT_SECRET"
	}
	return c.configVar
}
