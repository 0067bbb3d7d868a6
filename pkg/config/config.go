package config

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wxauth/scf-auth/pkg/token"
)

// Config is the whole configuration of the auth functions.
type Config struct {
	MongoURI      string
	MongoDatabase string

	JWTSecret         []byte
	JWTIssuer         string
	AccessTokenTTL    time.Duration
	RefreshTokenTTL   time.Duration
	RefreshReuseGrace time.Duration
	// JWTAlg is the algorithm access tokens are signed with; unless it is
	// HS256, JWTSigningKeys are its keys, the first signing.
	JWTAlg         token.Alg
	JWTSigningKeys []token.SigningKey
	// IntrospectToken is the bearer token of POST /token/introspect over
	// HTTP; empty when HTTP introspection is off.
	IntrospectToken []byte

	// WeChatApps are the deployment's WeChat apps (WECHAT_APPID first, then
	// WECHAT_APPS); WeChatAppID is the first mini-program's id, the app of a
	// WeChat login that names none.
	WeChatApps []WeChatApp
	weChatHalf error
	// CORSOrigins are the browser origins allowed to call the functions.
	CORSOrigins   []string
	WeChatAppID   string
	WeChatSecret  string
	WeChatAPIBase string

	SMSProvider       string
	TencentSecretID   string
	TencentSecretKey  string
	SMSRegion         string
	SMSEndpoint       string
	SMSSdkAppID       string
	SMSSignName       string
	SMSTemplateID     string
	SMSTemplateParams []string

	SMSCodeTTL          time.Duration
	SMSCooldown         time.Duration
	SMSMaxAttempts      int
	SMSPhoneHourlyLimit int
	SMSPhoneDailyLimit  int
	SMSIPHourlyLimit    int
	// SMSDirectHourlyLimit caps the sends of direct invocations with no
	// trusted caller (the Invoke API from the team's own servers), which
	// share one counter.
	SMSDirectHourlyLimit int
	// SMSGlobalHourlyLimit caps the deployment's sends per rolling hour;
	// 0 means no cap.
	SMSGlobalHourlyLimit int

	CaptchaMode         string
	CaptchaAppID        string
	CaptchaAppSecretKey string
	CaptchaEndpoint     string
	CaptchaFreeSends    int

	// ReauthWindow is how long after a sign-in a session may change the
	// account's ways to log in, or delete it, without a proof; 0 means a
	// proof every time.
	ReauthWindow time.Duration
	// AuditRetention is how long audit entries are kept.
	AuditRetention time.Duration

	LogLevel string
}

// DefaultAuditRetention is AUDIT_RETENTION's default: 180 days.
const DefaultAuditRetention = 4320 * time.Hour

// The captcha modes.
const (
	CaptchaOff      = "off"
	CaptchaAdaptive = "adaptive"
	CaptchaAlways   = "always"
)

// Error is a configuration problem with one variable.
type Error struct {
	Var    string
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("config: %s %s", e.Var, e.Reason) }

// The SMS providers.
const (
	ProviderTencent = "tencent"
	ProviderConsole = "console"
)

// Template parameters SMS_TEMPLATE_PARAMS may list.
const (
	TemplateParamCode    = "code"
	TemplateParamMinutes = "minutes"
)

// Load reads and validates the configuration through getenv (os.Getenv in
// production, a map in tests). It checks what every function needs; the
// Require methods check what only some functions need.
func Load(getenv func(string) string) (*Config, error) {
	r := reader{getenv: getenv}
	c := &Config{
		MongoURI:      r.str("MONGODB_URI", ""),
		MongoDatabase: r.str("MONGODB_DATABASE", "auth"),

		JWTSecret:         []byte(r.str("JWT_SECRET", "")),
		JWTIssuer:         r.str("JWT_ISSUER", "scf-auth"),
		AccessTokenTTL:    r.duration("ACCESS_TOKEN_TTL", 2*time.Hour, time.Second),
		RefreshTokenTTL:   r.duration("REFRESH_TOKEN_TTL", 720*time.Hour, time.Second),
		RefreshReuseGrace: r.duration("REFRESH_REUSE_GRACE", 3*time.Second, 0),
		JWTAlg:            r.alg("JWT_ALG"),
		IntrospectToken:   []byte(r.str("INTROSPECT_TOKEN", "")),

		WeChatAppID:   r.str("WECHAT_APPID", ""),
		WeChatSecret:  r.str("WECHAT_SECRET", ""),
		WeChatAPIBase: strings.TrimRight(r.str("WECHAT_API_BASE", "https://api.weixin.qq.com"), "/"),

		SMSProvider:       r.str("SMS_PROVIDER", ProviderTencent),
		TencentSecretID:   r.str("TENCENTCLOUD_SECRET_ID", ""),
		TencentSecretKey:  r.str("TENCENTCLOUD_SECRET_KEY", ""),
		SMSRegion:         r.str("SMS_REGION", "ap-guangzhou"),
		SMSEndpoint:       r.str("SMS_ENDPOINT", "sms.tencentcloudapi.com"),
		SMSSdkAppID:       r.str("SMS_SDK_APP_ID", ""),
		SMSSignName:       r.str("SMS_SIGN_NAME", ""),
		SMSTemplateID:     r.str("SMS_TEMPLATE_ID", ""),
		SMSTemplateParams: r.list("SMS_TEMPLATE_PARAMS", TemplateParamCode),

		SMSCodeTTL:          r.duration("SMS_CODE_TTL", 5*time.Minute, time.Second),
		SMSCooldown:         r.duration("SMS_COOLDOWN", 60*time.Second, time.Second),
		SMSMaxAttempts:      r.integer("SMS_MAX_ATTEMPTS", 5, 1, 100),
		SMSPhoneHourlyLimit: r.integer("SMS_PHONE_HOURLY_LIMIT", 5, 1, 10000),
		SMSPhoneDailyLimit:  r.integer("SMS_PHONE_DAILY_LIMIT", 10, 1, 100000),
		SMSIPHourlyLimit:    r.integer("SMS_IP_HOURLY_LIMIT", 30, 1, 1000000),

		SMSDirectHourlyLimit: r.integer("SMS_DIRECT_HOURLY_LIMIT", 300, 1, 1000000),

		SMSGlobalHourlyLimit: r.integer("SMS_GLOBAL_HOURLY_LIMIT", 1000, 0, 1000000000),

		CaptchaMode:         strings.ToLower(r.str("CAPTCHA_MODE", CaptchaOff)),
		CaptchaAppID:        r.str("CAPTCHA_APP_ID", ""),
		CaptchaAppSecretKey: r.str("CAPTCHA_APP_SECRET_KEY", ""),
		CaptchaEndpoint:     r.str("CAPTCHA_ENDPOINT", "captcha.tencentcloudapi.com"),
		CaptchaFreeSends:    r.integer("CAPTCHA_FREE_SENDS", 3, 0, 1000000),

		ReauthWindow:   r.duration("REAUTH_WINDOW", 5*time.Minute, 0),
		AuditRetention: r.duration("AUDIT_RETENTION", DefaultAuditRetention, time.Hour),

		LogLevel: strings.ToLower(r.str("LOG_LEVEL", "info")),
	}
	if r.err != nil {
		return nil, r.err
	}
	apps, half, err := weChatApps(c.WeChatAppID, c.WeChatSecret, r.str("WECHAT_APPS", ""))
	if err != nil {
		return nil, err
	}
	c.WeChatApps, c.weChatHalf = apps, half
	if c.CORSOrigins, err = corsOrigins(r.str("CORS_ORIGINS", "")); err != nil {
		return nil, err
	}
	c.WeChatAppID, c.WeChatSecret = "", ""
	if first, ok := c.WeChatApp(""); ok {
		c.WeChatAppID, c.WeChatSecret = first.ID, first.Secret
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	keys, err := signingKeys(c.JWTAlg, r.str("JWT_SIGNING_KEYS", ""))
	if err != nil {
		return nil, err
	}
	c.JWTSigningKeys = keys
	return c, nil
}

// signingKeys reads JWT_SIGNING_KEYS for alg. The error says which key is
// wrong and why, never what it holds.
func signingKeys(alg token.Alg, text string) ([]token.SigningKey, error) {
	if !alg.Asymmetric() {
		if text != "" {
			return nil, &Error{"JWT_SIGNING_KEYS", "is set, but JWT_ALG is " + string(alg) + ", which signs with JWT_SECRET: set JWT_ALG to ES256 or EdDSA, or unset JWT_SIGNING_KEYS"}
		}
		return nil, nil
	}
	keys, err := token.ParseSigningKeys(alg, text)
	if err != nil {
		return nil, &Error{"JWT_SIGNING_KEYS", err.Error()}
	}
	return keys, nil
}

func (c *Config) validate() error {
	switch {
	case c.MongoURI == "":
		return &Error{"MONGODB_URI", "is required"}
	case !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://"):
		return &Error{"MONGODB_URI", "must start with mongodb:// or mongodb+srv://"}
	case c.MongoDatabase == "" || strings.ContainsAny(c.MongoDatabase, `/\. "$`):
		return &Error{"MONGODB_DATABASE", "must be a plain database name"}
	case len(c.JWTSecret) == 0:
		return &Error{"JWT_SECRET", "is required"}
	case len(c.JWTSecret) < 32:
		return &Error{"JWT_SECRET", "must be at least 32 bytes"}
	case c.JWTIssuer == "":
		return &Error{"JWT_ISSUER", "must not be empty"}
	case len(c.IntrospectToken) > 0 && len(c.IntrospectToken) < 32:
		return &Error{"INTROSPECT_TOKEN", "must be at least 32 bytes (or unset, which turns HTTP introspection off)"}
	case len(c.IntrospectToken) > 0 && subtle.ConstantTimeCompare(c.IntrospectToken, c.JWTSecret) == 1:
		return &Error{"INTROSPECT_TOKEN", "must not be JWT_SECRET: give the services that introspect a token of their own"}
	case c.RefreshReuseGrace > time.Minute:
		return &Error{"REFRESH_REUSE_GRACE", "must be at most 1m"}
	case c.ReauthWindow > time.Hour:
		return &Error{"REAUTH_WINDOW", "must be at most 1h: a stolen access token must not change the account's ways to log in"}
	case !isHTTPOrigin(c.WeChatAPIBase):
		return &Error{"WECHAT_API_BASE", "must be an http(s) URL such as https://api.weixin.qq.com"}
	case c.SMSProvider != ProviderTencent && c.SMSProvider != ProviderConsole:
		return &Error{"SMS_PROVIDER", `must be "tencent" or "console"`}
	case c.LogLevel != "debug" && c.LogLevel != "info" && c.LogLevel != "warn" && c.LogLevel != "error":
		return &Error{"LOG_LEVEL", "must be debug, info, warn or error"}
	case c.CaptchaMode != CaptchaOff && c.CaptchaMode != CaptchaAdaptive && c.CaptchaMode != CaptchaAlways:
		return &Error{"CAPTCHA_MODE", `must be "off", "adaptive" or "always"`}
	}
	for _, p := range c.SMSTemplateParams {
		if p != TemplateParamCode && p != TemplateParamMinutes {
			return &Error{"SMS_TEMPLATE_PARAMS", fmt.Sprintf("has %q; allowed are code and minutes", p)}
		}
	}
	if _, _, err := SplitEndpoint(c.SMSEndpoint); err != nil {
		return &Error{"SMS_ENDPOINT", err.Error()}
	}
	if _, _, err := SplitEndpoint(c.CaptchaEndpoint); err != nil {
		return &Error{"CAPTCHA_ENDPOINT", err.Error()}
	}
	return nil
}

// RequireCaptcha checks what verifying captcha tickets needs, unless
// CAPTCHA_MODE is off.
func (c *Config) RequireCaptcha() error {
	if c.CaptchaMode == CaptchaOff {
		return nil
	}
	if _, err := strconv.ParseUint(c.CaptchaAppID, 10, 64); err != nil {
		return &Error{"CAPTCHA_APP_ID", "must be the numeric CaptchaAppId of a Tencent Cloud Captcha application when CAPTCHA_MODE is " + c.CaptchaMode}
	}
	if c.CaptchaAppSecretKey == "" {
		return &Error{"CAPTCHA_APP_SECRET_KEY", "is required when CAPTCHA_MODE is " + c.CaptchaMode}
	}
	if (c.TencentSecretID == "") != (c.TencentSecretKey == "") {
		return &Error{"TENCENTCLOUD_SECRET_KEY", "and TENCENTCLOUD_SECRET_ID must be set together"}
	}
	return nil
}

// RequireSMS checks what sending SMS needs.
func (c *Config) RequireSMS() error {
	if c.SMSProvider != ProviderTencent {
		return nil
	}
	for _, v := range []struct{ name, value string }{
		{"SMS_SDK_APP_ID", c.SMSSdkAppID},
		{"SMS_SIGN_NAME", c.SMSSignName},
		{"SMS_TEMPLATE_ID", c.SMSTemplateID},
	} {
		if v.value == "" {
			return &Error{v.name, `is required when SMS_PROVIDER is "tencent"`}
		}
	}
	if (c.TencentSecretID == "") != (c.TencentSecretKey == "") {
		return &Error{"TENCENTCLOUD_SECRET_KEY", "and TENCENTCLOUD_SECRET_ID must be set together"}
	}
	return nil
}

// RequireWeChat checks what talking to WeChat needs.
func (c *Config) RequireWeChat() error {
	switch {
	case c.weChatHalf != nil:
		return c.weChatHalf
	case len(c.WeChatApps) == 0:
		return &Error{"WECHAT_APPID", "is required for WeChat logins (or WECHAT_APPS)"}
	}
	return nil
}

// SplitEndpoint turns SMS_ENDPOINT or CAPTCHA_ENDPOINT, a host such as
// sms.tencentcloudapi.com or a URL such as http://127.0.0.1:18082, into the
// SDK's scheme and host.
func SplitEndpoint(endpoint string) (scheme, host string, err error) {
	if endpoint == "" {
		return "", "", errors.New("must not be empty")
	}
	if !strings.Contains(endpoint, "://") {
		if strings.ContainsAny(endpoint, "/?# ") {
			return "", "", errors.New("must be a host or a URL")
		}
		return "HTTPS", endpoint, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", "", errors.New("must be a host or a URL like http://127.0.0.1:18082")
	}
	switch u.Scheme {
	case "http":
		return "HTTP", u.Host, nil
	case "https":
		return "HTTPS", u.Host, nil
	}
	return "", "", errors.New("URL scheme must be http or https")
}

func isHTTPOrigin(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
