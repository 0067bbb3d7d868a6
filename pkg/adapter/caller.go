package adapter

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/wxauth/scf-auth/pkg/apierror"
)

// The keys of a wx.cloud caller in an invocation's context (API.md §1),
// as Tencent's wx-server-sdk reads them: WX_CONTEXT_KEYS lists the keys
// of the context, and the rest are the caller's app, user and address.
// The WX_FROM_ keys name the calling app and user when another
// mini-program calls through resource sharing (资源复用).
const (
	envContextKeys = "WX_CONTEXT_KEYS"
	envAppID       = "WX_APPID"
	envOpenID      = "WX_OPENID"
	envUnionID     = "WX_UNIONID"
	envClientIP    = "WX_CLIENTIP"
	envClientIPv6  = "WX_CLIENTIPV6"
	envFromAppID   = "WX_FROM_APPID"
	envFromOpenID  = "WX_FROM_OPENID"
)

// wxContext is what the platform said about the caller of one
// invocation, read from that invocation's functioncontext Environment.
// scf-go-lib also copies the Environment into the process environment,
// where it stays after the invocation, so that is never read: a later
// invocation without a context would otherwise inherit the caller of an
// earlier one.
type wxContext struct {
	appID, openID, unionID string
	// clientIP is WX_CLIENTIP, else WX_CLIENTIPV6, as the platform wrote it.
	clientIP string
	// shared is set when the call came through resource sharing.
	shared bool
}

// invocationContext reads the wx.cloud caller context of ctx's invocation.
// When WX_CONTEXT_KEYS is set, only the keys it lists are the context, as
// wx-server-sdk reads it; without it, the keys are read as they are.
func invocationContext(ctx context.Context) wxContext {
	fc, ok := functioncontext.FromContext(ctx)
	if !ok || fc == nil || len(fc.Environment) == 0 {
		return wxContext{}
	}
	env := fc.Environment
	listed := func(string) bool { return true }
	if keys := env[envContextKeys]; keys != "" {
		set := map[string]bool{}
		for _, k := range strings.Split(keys, ",") {
			set[strings.TrimSpace(k)] = true
		}
		listed = func(k string) bool { return set[k] }
	}
	get := func(k string) string {
		if !listed(k) {
			return ""
		}
		return strings.TrimSpace(env[k])
	}
	wx := wxContext{appID: get(envAppID), openID: get(envOpenID), unionID: get(envUnionID), clientIP: get(envClientIP)}
	if wx.clientIP == "" {
		wx.clientIP = get(envClientIPv6)
	}
	wx.shared = get(envFromAppID) != "" || get(envFromOpenID) != ""
	return wx
}

// namesCaller reports whether the context names a wx.cloud caller: an
// app or a user. Only a wx.cloud call has one, so such an invocation is a
// direct invocation whatever its event looks like; an address alone is
// not a caller.
func (wx wxContext) namesCaller() bool {
	return wx.appID != "" || wx.openID != "" || wx.unionID != "" || wx.shared
}

// errCallersDisagree is why a direct invocation whose userInfo and
// context name different callers is refused.
var errCallersDisagree = errors.New("userInfo and the invocation context name different callers")

// callerOf is the wx.cloud caller of a direct invocation: the one its
// context names, else the legacy userInfo member's. When both are there
// they must name the same app and user, else the call is UNAUTHORIZED:
// a platform that sends the context may not replace a userInfo the caller
// typed into its data. The caller is trusted (non-nil) only when its app
// is one of the deployment's mini-programs (trusted) and it has an openid.
func callerOf(wx wxContext, info *userInfo, trusted []string) (*Caller, error) {
	var c Caller
	switch {
	case wx.namesCaller() && info != nil:
		if info.AppID != wx.appID || info.OpenID != wx.openID {
			return nil, apierror.NotAuthenticated(errCallersDisagree)
		}
		c = Caller{AppID: wx.appID, OpenID: wx.openID, UnionID: wx.unionID}
	case wx.namesCaller():
		c = Caller{AppID: wx.appID, OpenID: wx.openID, UnionID: wx.unionID}
	case info != nil:
		c = Caller{AppID: info.AppID, OpenID: info.OpenID}
	default:
		return nil, nil
	}
	if !slices.Contains(trusted, c.AppID) || c.AppID == "" || c.OpenID == "" {
		return nil, nil
	}
	return &c, nil
}
