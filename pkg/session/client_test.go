package session_test

import (
	"testing"

	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/session"
)

func TestDescribeClient(t *testing.T) {
	const app = "wx0123456789abcdef"
	iPhone := "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN"
	android := "Mozilla/5.0 (Linux; Android 14; 23049RAD8C Build/UKQ1.230804.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160117 MMWEBSDK/20240301 MMWEBID/1234 MicroMessenger/8.0.48.2580(0x28003036) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64 MiniProgramEnv/android"
	tests := []struct {
		name string
		req  adapter.Request
		want string
	}{
		{"mini-program on an iPhone", http(iPhone, "https://servicewechat.com/"+app+"/12/page-frame.html"), "mini-program " + app + " · iOS"},
		{"mini-program on Android", http(android, "https://servicewechat.com/"+app+"/3/page-frame.html"), "mini-program " + app + " · Android"},
		{"trial version", http(iPhone, "https://servicewechat.com/"+app+"/0/page-frame.html"), "mini-program " + app + " (trial) · iOS"},
		{"developer tools", http("Mozilla/5.0 (Windows NT 10.0; WOW64) wechatdevtools/1.06", "https://servicewechat.com/"+app+"/devtools/page-frame.html"), "mini-program " + app + " (devtools) · Windows"},
		{"a Referer that is not WeChat's shape", http(iPhone, "https://servicewechat.com/evil<script>/1/page-frame.html"), "WeChat browser · iOS"},
		{"browser", http("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15", ""), "browser · macOS"},
		{"HarmonyOS", http("Mozilla/5.0 (Phone; OpenHarmony 4.1) AppleWebKit/537.36 ArkWeb/4.1.6.1 Mobile", ""), "browser · HarmonyOS"},
		{"curl", http("curl/8.5.0", ""), "curl"},
		{"a program with an odd name", http("x<y>/1", ""), "unknown client"},
		{"nothing said", http("", ""), "unknown client"},
		{"wx.cloud", adapter.Request{Kind: adapter.Direct, Caller: &adapter.Caller{AppID: app, OpenID: "o"}}, "wx.cloud " + app},
		{"Invoke API", adapter.Request{Kind: adapter.Direct}, "direct invocation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := session.DescribeClient(&tt.req); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func http(ua, referer string) adapter.Request {
	return adapter.Request{Kind: adapter.FunctionURL, Headers: map[string]string{"user-agent": ua, "referer": referer}}
}
