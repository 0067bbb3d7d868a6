package config_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/config"
	"github.com/wxauth/scf-auth/pkg/token"
)

func env(kv map[string]string) func(string) string {
	base := map[string]string{"MONGODB_URI": "mongodb://127.0.0.1:27017/", "JWT_SECRET": strings.Repeat("s", 32)}
	for k, v := range kv {
		base[k] = v
	}
	return func(k string) string { return base[k] }
}

func TestDefaults(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MongoDatabase != "auth" || c.JWTIssuer != "scf-auth" || c.AccessTokenTTL != 2*time.Hour ||
		c.RefreshTokenTTL != 720*time.Hour || c.WeChatAPIBase != "https://api.weixin.qq.com" ||
		c.SMSProvider != "tencent" || c.SMSRegion != "ap-guangzhou" || c.SMSEndpoint != "sms.tencentcloudapi.com" ||
		strings.Join(c.SMSTemplateParams, ",") != "code" || c.SMSCodeTTL != 5*time.Minute ||
		c.SMSCooldown != time.Minute || c.SMSMaxAttempts != 5 || c.SMSPhoneHourlyLimit != 5 ||
		c.SMSPhoneDailyLimit != 10 || c.SMSIPHourlyLimit != 30 || c.SMSDirectHourlyLimit != 300 || c.RefreshReuseGrace != 3*time.Second ||
		c.ReauthWindow != 5*time.Minute || c.AuditRetention != 4320*time.Hour {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	tests := map[string]map[string]string{
		"MONGODB_URI":         {"MONGODB_URI": ""},
		"JWT_SECRET":          {"JWT_SECRET": "too short"},
		"ACCESS_TOKEN_TTL":    {"ACCESS_TOKEN_TTL": "2 hours"},
		"REFRESH_TOKEN_TTL":   {"REFRESH_TOKEN_TTL": "-1h"},
		"SMS_COOLDOWN":        {"SMS_COOLDOWN": "0s"},
		"SMS_MAX_ATTEMPTS":    {"SMS_MAX_ATTEMPTS": "zero"},
		"SMS_IP_HOURLY_LIMIT": {"SMS_IP_HOURLY_LIMIT": "0"},
		"SMS_PROVIDER":        {"SMS_PROVIDER": "aliyun"},
		"SMS_TEMPLATE_PARAMS": {"SMS_TEMPLATE_PARAMS": "code,phone"},
		"SMS_ENDPOINT":        {"SMS_ENDPOINT": "ftp://sms"},
		"WECHAT_API_BASE":     {"WECHAT_API_BASE": "api.weixin.qq.com"},
		"MONGODB_DATABASE":    {"MONGODB_DATABASE": "a/b"},
		"REFRESH_REUSE_GRACE": {"REFRESH_REUSE_GRACE": "1h"},
		"LOG_LEVEL":           {"LOG_LEVEL": "verbose"},
		"REAUTH_WINDOW":       {"REAUTH_WINDOW": "-1m"},
		"AUDIT_RETENTION":     {"AUDIT_RETENTION": "30m"},
		"JWT_ALG":             {"JWT_ALG": "RS256"},
		"INTROSPECT_TOKEN":    {"INTROSPECT_TOKEN": "short"},
	}
	for name, vars := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := config.Load(env(vars))
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Var != name {
				t.Fatalf("got %v, want an error naming %s", err, name)
			}
		})
	}
}

func TestIntrospectTokenIsNotTheJWTSecret(t *testing.T) {
	_, err := config.Load(env(map[string]string{"INTROSPECT_TOKEN": strings.Repeat("s", 32)}))
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Var != "INTROSPECT_TOKEN" {
		t.Fatalf("got %v, want an error naming INTROSPECT_TOKEN", err)
	}
	c, err := config.Load(env(map[string]string{"INTROSPECT_TOKEN": strings.Repeat("i", 32)}))
	if err != nil || string(c.IntrospectToken) != strings.Repeat("i", 32) {
		t.Fatalf("INTROSPECT_TOKEN: %v", err)
	}
}

func TestSigningKeys(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	pemOf := func(k any) string {
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	}
	c, err := config.Load(env(nil))
	if err != nil || c.JWTAlg != token.HS256 || c.JWTSigningKeys != nil {
		t.Fatalf("default: %v %v %v", c.JWTAlg, c.JWTSigningKeys, err)
	}
	c, err = config.Load(env(map[string]string{"JWT_ALG": "ES256", "JWT_SIGNING_KEYS": pemOf(ec)}))
	if err != nil || c.JWTAlg != token.ES256 || len(c.JWTSigningKeys) != 1 {
		t.Fatalf("ES256: %v", err)
	}
	c, err = config.Load(env(map[string]string{"JWT_ALG": "EdDSA", "JWT_SIGNING_KEYS": pemOf(ed)}))
	if err != nil || c.JWTAlg != token.EdDSA || len(c.JWTSigningKeys) != 1 {
		t.Fatalf("EdDSA: %v", err)
	}
	for name, vars := range map[string]map[string]string{
		"ES256 without keys":      {"JWT_ALG": "ES256"},
		"EdDSA with an ES256 key": {"JWT_ALG": "EdDSA", "JWT_SIGNING_KEYS": pemOf(ec)},
		"ES256 with an EdDSA key": {"JWT_ALG": "ES256", "JWT_SIGNING_KEYS": pemOf(ed)},
		"HS256 with keys":         {"JWT_SIGNING_KEYS": pemOf(ec)},
		"not PEM":                 {"JWT_ALG": "ES256", "JWT_SIGNING_KEYS": "secret"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Load(env(vars))
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Var != "JWT_SIGNING_KEYS" {
				t.Fatalf("got %v, want an error naming JWT_SIGNING_KEYS", err)
			}
			if lines := strings.Split(vars["JWT_SIGNING_KEYS"], "\n"); len(lines) > 1 && strings.Contains(err.Error(), lines[1]) {
				t.Fatalf("the error quotes the key: %v", err)
			}
		})
	}
}

func TestDirectHourlyLimit(t *testing.T) {
	c, err := config.Load(env(map[string]string{"SMS_DIRECT_HOURLY_LIMIT": "50"}))
	if err != nil || c.SMSDirectHourlyLimit != 50 {
		t.Fatalf("got %v, %v", c, err)
	}
	for _, bad := range []string{"0", "-1", "many"} {
		_, err := config.Load(env(map[string]string{"SMS_DIRECT_HOURLY_LIMIT": bad}))
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Var != "SMS_DIRECT_HOURLY_LIMIT" {
			t.Fatalf("%q: got %v, want an error naming SMS_DIRECT_HOURLY_LIMIT", bad, err)
		}
	}
}

// A window longer than an hour would let a stolen access token change
// identities for most of its life.
func TestReauthWindowAtMostAnHour(t *testing.T) {
	_, err := config.Load(env(map[string]string{"REAUTH_WINDOW": "2h"}))
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Var != "REAUTH_WINDOW" {
		t.Fatalf("got %v", err)
	}
}

// REAUTH_WINDOW=0 asks for a proof before every identity change.
func TestReauthWindowZero(t *testing.T) {
	c, err := config.Load(env(map[string]string{"REAUTH_WINDOW": "0", "AUDIT_RETENTION": "720h"}))
	if err != nil || c.ReauthWindow != 0 || c.AuditRetention != 720*time.Hour {
		t.Fatalf("got %+v, %v", c, err)
	}
}

func TestRequireSMSAndWeChat(t *testing.T) {
	c, _ := config.Load(env(nil))
	var ce *config.Error
	if err := c.RequireSMS(); !errors.As(err, &ce) || ce.Var != "SMS_SDK_APP_ID" {
		t.Fatalf("RequireSMS: %v", err)
	}
	if err := c.RequireWeChat(); !errors.As(err, &ce) || ce.Var != "WECHAT_APPID" {
		t.Fatalf("RequireWeChat: %v", err)
	}
	c, _ = config.Load(env(map[string]string{"SMS_PROVIDER": "console"}))
	if err := c.RequireSMS(); err != nil {
		t.Fatalf("console needs no SMS settings: %v", err)
	}
}

func TestSplitEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"sms.tencentcloudapi.com":   "HTTPS sms.tencentcloudapi.com",
		"http://127.0.0.1:18082":    "HTTP 127.0.0.1:18082",
		"https://sms.example.com/":  "HTTPS sms.example.com",
		"sms.internal.example:8443": "HTTPS sms.internal.example:8443",
	} {
		scheme, host, err := config.SplitEndpoint(in)
		if err != nil || scheme+" "+host != want {
			t.Errorf("SplitEndpoint(%q) = %s %s %v, want %s", in, scheme, host, err, want)
		}
	}
	for _, bad := range []string{"", "http://", "http://h/path", "sms host"} {
		if _, _, err := config.SplitEndpoint(bad); err == nil {
			t.Errorf("SplitEndpoint(%q) accepted", bad)
		}
	}
}

// Origins are kept as a browser sends them: lower case, no default port;
// a path, a query or * is refused.
func TestCORSOrigins(t *testing.T) {
	c, err := config.Load(env(map[string]string{"CORS_ORIGINS": "HTTPS://H5.Example.com:443, http://localhost:8080,https://m.example.com/"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://h5.example.com", "http://localhost:8080", "https://m.example.com"}
	if strings.Join(c.CORSOrigins, " ") != strings.Join(want, " ") {
		t.Fatalf("origins %v, want %v", c.CORSOrigins, want)
	}
	for _, bad := range []string{"*", "h5.example.com", "https://h5.example.com/login", "ftp://x.example.com", "https://x.example.com?a=1"} {
		_, err := config.Load(env(map[string]string{"CORS_ORIGINS": bad}))
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Var != "CORS_ORIGINS" {
			t.Errorf("%q: %v, want an error naming CORS_ORIGINS", bad, err)
		}
	}
}

// WECHAT_APPS: the apps beside WECHAT_APPID, each of a known kind, none
// twice.
func TestWeChatApps(t *testing.T) {
	c, err := config.Load(env(map[string]string{"WECHAT_APPID": "wx1", "WECHAT_SECRET": "s1", "WECHAT_APPS": "wx2:s2:miniprogram, wx3:s3:OfficialAccount"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.WeChatApps) != 3 || c.WeChatAppID != "wx1" || strings.Join(c.MiniPrograms(), ",") != "wx1,wx2" || c.WeChatApps[2].Kind != config.KindOfficialAccount {
		t.Fatalf("apps %+v", c.WeChatApps)
	}
	only, err := config.Load(env(map[string]string{"WECHAT_APPS": "wx9:s9:website,wx8:s8:miniprogram"}))
	if err != nil || only.WeChatAppID != "wx8" || only.RequireWeChat() != nil {
		t.Fatalf("WECHAT_APPS alone: %+v %v", only, err)
	}
	for _, bad := range []string{"wx2:s2", "wx2:s2:applet", "wx1:s:miniprogram", ":s:website", "wx2:s2:website,wx2:s3:mobile"} {
		_, err := config.Load(env(map[string]string{"WECHAT_APPID": "wx1", "WECHAT_SECRET": "s1", "WECHAT_APPS": bad}))
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Var != "WECHAT_APPS" {
			t.Errorf("%q: %v, want an error naming WECHAT_APPS", bad, err)
		}
	}
	half, err := config.Load(env(map[string]string{"WECHAT_APPID": "wx1"}))
	var ce *config.Error
	if err != nil || !errors.As(half.RequireWeChat(), &ce) || ce.Var != "WECHAT_SECRET" {
		t.Fatalf("WECHAT_APPID without its secret: %v %v", err, half.RequireWeChat())
	}
}
