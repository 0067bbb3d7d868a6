package config

import (
	"fmt"
	"net/url"
	"strings"
)

// The kinds of WeChat app a deployment may list (WECHAT_APPS).
const (
	KindMiniProgram     = "miniprogram"     // 小程序: wx.login() codes, jscode2session
	KindOfficialAccount = "officialaccount" // 公众号 H5 pages: 网页授权
	KindWebsite         = "website"         // 开放平台 网站应用: 网站应用微信登录
	KindMobile          = "mobile"          // 开放平台 移动应用: the app's WeChat login
)

// WeChatApp is one WeChat app of the deployment. Var is the variable that
// configured it, for messages about it.
type WeChatApp struct {
	ID, Secret, Kind string
	Var              string
}

// IsMiniProgram reports whether the app is a mini-program.
func (a WeChatApp) IsMiniProgram() bool { return a.Kind == KindMiniProgram }

// weChatApps reads WECHAT_APPID/WECHAT_SECRET, when both are set, as the
// first mini-program, then the apps WECHAT_APPS lists ("appid:secret:kind",
// comma-separated). One of the pair without the other is no app, and the
// error RequireWeChat answers.
func weChatApps(appID, secret, list string) (apps []WeChatApp, half error, err error) {
	switch {
	case appID != "" && secret == "":
		half = &Error{"WECHAT_SECRET", "is required with WECHAT_APPID for WeChat logins"}
	case appID == "" && secret != "":
		half = &Error{"WECHAT_APPID", "is required with WECHAT_SECRET for WeChat logins"}
	case appID != "":
		apps = append(apps, WeChatApp{ID: appID, Secret: secret, Kind: KindMiniProgram, Var: "WECHAT_APPID"})
	}
	for i, entry := range strings.Split(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		parts := strings.Split(entry, ":")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || strings.ContainsAny(entry, " \t") {
			return nil, nil, &Error{"WECHAT_APPS", fmt.Sprintf("entry %d must be appid:secret:kind", i+1)}
		}
		app := WeChatApp{ID: parts[0], Secret: parts[1], Kind: strings.ToLower(parts[2]), Var: "WECHAT_APPS"}
		switch app.Kind {
		case KindMiniProgram, KindOfficialAccount, KindWebsite, KindMobile:
		default:
			return nil, nil, &Error{"WECHAT_APPS", fmt.Sprintf("entry %d (%s) has kind %q; allowed are miniprogram, officialaccount, website and mobile", i+1, app.ID, parts[2])}
		}
		for _, seen := range apps {
			if seen.ID == app.ID {
				return nil, nil, &Error{"WECHAT_APPS", fmt.Sprintf("lists %s, which %s already names", app.ID, seen.Var)}
			}
		}
		apps = append(apps, app)
	}
	return apps, half, nil
}

// WeChatApp returns the app with id; the first mini-program for "".
func (c *Config) WeChatApp(id string) (WeChatApp, bool) {
	for _, a := range c.WeChatApps {
		if (id == "" && a.IsMiniProgram()) || (id != "" && a.ID == id) {
			return a, true
		}
	}
	return WeChatApp{}, false
}

// MiniPrograms are the ids of the deployment's mini-programs: the apps
// whose wx.cloud callers are trusted.
func (c *Config) MiniPrograms() []string {
	var ids []string
	for _, a := range c.WeChatApps {
		if a.IsMiniProgram() {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

// corsOrigins reads CORS_ORIGINS: browser origins (scheme, host and port,
// no path), comma-separated. "*" is refused: the functions answer with
// account data, and each origin allowed should be one the team runs.
func corsOrigins(list string) ([]string, error) {
	var origins []string
	for _, o := range strings.Split(list, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if o == "*" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return nil, &Error{"CORS_ORIGINS", fmt.Sprintf("has %q; list origins such as https://h5.example.com (no path, no *)", o)}
		}
		// Browsers send the origin in lower case, without a default port.
		host := strings.ToLower(u.Host)
		if (u.Scheme == "https" && strings.HasSuffix(host, ":443")) || (u.Scheme == "http" && strings.HasSuffix(host, ":80")) {
			host = host[:strings.LastIndex(host, ":")]
		}
		origins = append(origins, strings.ToLower(u.Scheme)+"://"+host)
	}
	return origins, nil
}
