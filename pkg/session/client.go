package session

import (
	"strings"

	"github.com/wxauth/scf-auth/pkg/adapter"
)

// maxClient bounds a client description.
const maxClient = 64

// DescribeClient is the short description of a request's client that
// sessions and security events record (API.md §4), so that an account's
// owner recognises their devices: what kind of client (a mini-program and
// its app id, a wx.cloud call, a browser, a named program), and the
// platform. It is built from what the request says of itself (WeChat sets
// the Referer of a mini-program's wx.request as
// https://servicewechat.com/{appid}/{version}/page-frame.html, which the
// page cannot change), for recognising a session, not for trusting it;
// it never holds the client's address.
func DescribeClient(req *adapter.Request) string {
	if req.Kind == adapter.Direct {
		if req.Caller != nil {
			return "wx.cloud " + req.Caller.AppID
		}
		return "direct invocation"
	}
	ua := req.Headers["user-agent"]
	var desc string
	if appID, version, ok := miniProgram(req.Headers["referer"]); ok {
		desc = "mini-program " + appID
		switch version {
		case "devtools":
			desc += " (devtools)"
		case "0":
			desc += " (trial)"
		}
	} else if strings.Contains(ua, "MicroMessenger") {
		desc = "WeChat browser"
	} else if strings.HasPrefix(ua, "Mozilla/") {
		desc = "browser"
	} else if product := productOf(ua); product != "" {
		desc = product
	} else {
		desc = "unknown client"
	}
	if p := platformOf(ua); p != "" {
		desc += " · " + p
	}
	if len(desc) > maxClient {
		desc = desc[:maxClient]
	}
	return desc
}

// miniProgram reads the app id and version of a mini-program's Referer.
func miniProgram(referer string) (appID, version string, ok bool) {
	rest, ok := strings.CutPrefix(referer, "https://servicewechat.com/")
	if !ok {
		return "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[2] != "page-frame.html" || !isAppID(parts[0]) || !isVersion(parts[1]) {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// isAppID reports whether s looks like a WeChat app id: wx and 16 hex
// digits.
func isAppID(s string) bool {
	if len(s) != 18 || !strings.HasPrefix(s, "wx") {
		return false
	}
	for _, r := range s[2:] {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

func isVersion(s string) bool {
	if s == "devtools" {
		return true
	}
	if s == "" || len(s) > 10 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// platforms are the User-Agent markers of the platforms named, in the
// order they are tried: an iPhone says "like Mac OS X", Android and
// HarmonyOS say Linux.
var platforms = []struct{ marker, name string }{
	{"OpenHarmony", "HarmonyOS"},
	{"HarmonyOS", "HarmonyOS"},
	{"iPhone", "iOS"},
	{"iPad", "iPadOS"},
	{"Android", "Android"},
	{"Windows", "Windows"},
	{"Macintosh", "macOS"},
	{"Linux", "Linux"},
}

func platformOf(ua string) string {
	for _, p := range platforms {
		if strings.Contains(ua, p.marker) {
			return p.name
		}
	}
	return ""
}

// productOf is the name a program gives itself first in its User-Agent
// (curl, okhttp, Go-http-client), kept to letters, digits and . _ -.
func productOf(ua string) string {
	name, _, _ := strings.Cut(ua, "/")
	name, _, _ = strings.Cut(name, " ")
	if name == "" || len(name) > 32 {
		return ""
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return ""
		}
	}
	return name
}
