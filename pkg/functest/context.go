package functest

import (
	"context"
	"sort"
	"strings"

	"github.com/tencentyun/scf-go-lib/functioncontext"
)

// WXContext is the invocation context of a wx.cloud call, as the platform
// passes it (functioncontext's per-invocation Environment): the given
// WX_ keys, and WX_CONTEXT_KEYS listing them.
func WXContext(kv ...string) map[string]string {
	env := map[string]string{}
	var keys []string
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
		keys = append(keys, kv[i])
	}
	sort.Strings(keys)
	env["WX_CONTEXT_KEYS"] = strings.Join(keys, ",")
	return env
}

// WXCaller is the context of a wx.cloud call from the user openID of the
// test app, with its unionid when unionID is not empty.
func WXCaller(openID, unionID string) map[string]string {
	kv := []string{"WX_APPID", AppID, "WX_OPENID", openID, "WX_CLIENTIP", ClientIPAddr}
	if unionID != "" {
		kv = append(kv, "WX_UNIONID", unionID)
	}
	return WXContext(kv...)
}

// DirectIn sends a direct invocation with environment as the
// invocation's context, as the platform does for a wx.cloud call.
func (f *Function) DirectIn(environment map[string]string, event map[string]any) *Answer {
	f.env.t.Helper()
	ctx := functioncontext.NewContext(context.Background(), &functioncontext.FunctionContext{Environment: environment})
	return f.invokeIn(ctx, mustJSON(event))
}
