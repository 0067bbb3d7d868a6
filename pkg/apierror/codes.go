package apierror

import "net/http"

// Code is a stable machine-readable error code of the contract (API.md §2).
type Code string

// The codes of the contract. Clients switch on these; never rename one.
const (
	OK                   Code = "OK"
	InvalidRequest       Code = "INVALID_REQUEST"
	InvalidPhone         Code = "INVALID_PHONE"
	NotFound             Code = "NOT_FOUND"
	MethodNotAllowed     Code = "METHOD_NOT_ALLOWED"
	PayloadTooLarge      Code = "PAYLOAD_TOO_LARGE"
	SMSCooldown          Code = "SMS_COOLDOWN"
	SMSLimitExceeded     Code = "SMS_LIMIT_EXCEEDED"
	SMSSendFailed        Code = "SMS_SEND_FAILED"
	CodeInvalid          Code = "CODE_INVALID"
	CodeAttemptsExceeded Code = "CODE_ATTEMPTS_EXCEEDED"
	WeChatCodeInvalid    Code = "WECHAT_CODE_INVALID"
	WeChatRateLimited    Code = "WECHAT_RATE_LIMITED"
	WeChatUnavailable    Code = "WECHAT_UNAVAILABLE"
	AccountConflict      Code = "ACCOUNT_CONFLICT"
	LastIdentity         Code = "LAST_IDENTITY"
	CaptchaRequired      Code = "CAPTCHA_REQUIRED"
	CaptchaInvalid       Code = "CAPTCHA_INVALID"
	Unauthorized         Code = "UNAUTHORIZED"
	TokenExpired         Code = "TOKEN_EXPIRED"
	RefreshTokenInvalid  Code = "REFRESH_TOKEN_INVALID"
	AccountDisabled      Code = "ACCOUNT_DISABLED"
	ReauthRequired       Code = "REAUTH_REQUIRED"
	Internal             Code = "INTERNAL"
	ServiceUnavailable   Code = "SERVICE_UNAVAILABLE"
)

// kind is what the contract fixes for a code: its HTTP status and the
// message shown to the end user.
type kind struct {
	status  int
	message string
}

// kinds is the contract's error table in one place.
var kinds = map[Code]kind{
	OK:                   {http.StatusOK, "ok"},
	InvalidRequest:       {http.StatusBadRequest, "请求参数有误"},
	InvalidPhone:         {http.StatusBadRequest, "请输入正确的手机号"},
	NotFound:             {http.StatusNotFound, "请求的接口不存在"},
	MethodNotAllowed:     {http.StatusMethodNotAllowed, "不支持该请求方法"},
	PayloadTooLarge:      {http.StatusRequestEntityTooLarge, "请求内容过大"},
	SMSCooldown:          {http.StatusTooManyRequests, "验证码发送太频繁，请稍后再试"},
	SMSLimitExceeded:     {http.StatusTooManyRequests, "验证码发送次数已达上限，请稍后再试"},
	SMSSendFailed:        {http.StatusBadGateway, "短信发送失败，请稍后重试"},
	CodeInvalid:          {http.StatusUnauthorized, "验证码错误或已失效"},
	CodeAttemptsExceeded: {http.StatusTooManyRequests, "验证码错误次数过多，请重新获取"},
	WeChatCodeInvalid:    {http.StatusUnauthorized, "微信登录凭证已失效，请重试"},
	WeChatRateLimited:    {http.StatusTooManyRequests, "微信登录太频繁，请稍后再试"},
	WeChatUnavailable:    {http.StatusServiceUnavailable, "微信服务繁忙，请稍后再试"},
	AccountConflict:      {http.StatusConflict, "该手机号或微信已绑定其他账号"},
	LastIdentity:         {http.StatusConflict, "这是账号唯一的登录方式，不能解绑"},
	CaptchaRequired:      {http.StatusPreconditionRequired, "请先完成安全验证"},
	CaptchaInvalid:       {http.StatusForbidden, "安全验证未通过，请重试"},
	Unauthorized:         {http.StatusUnauthorized, "请先登录"},
	TokenExpired:         {http.StatusUnauthorized, "登录状态已过期"},
	RefreshTokenInvalid:  {http.StatusUnauthorized, "登录已失效，请重新登录"},
	AccountDisabled:      {http.StatusForbidden, "账号已被停用"},
	ReauthRequired:       {http.StatusForbidden, "为了账号安全，请先验证身份"},
	Internal:             {http.StatusInternalServerError, "服务器开小差了，请稍后再试"},
	ServiceUnavailable:   {http.StatusServiceUnavailable, "服务暂时不可用，请稍后再试"},
}

// Status is the HTTP status the contract assigns to c.
func (c Code) Status() int {
	if k, ok := kinds[c]; ok {
		return k.status
	}
	return http.StatusInternalServerError
}

// Message is the end-user message the contract assigns to c.
func (c Code) Message() string {
	if k, ok := kinds[c]; ok {
		return k.message
	}
	return kinds[Internal].message
}
