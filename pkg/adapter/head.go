package adapter

import "context"

// ParseHead reads what one event says about its request and its caller,
// as a Function reads it, for code that is not a Function: the team's own
// functions authenticating their callers (package authn). It fills every
// member of Request but Fields: the kind, the request id, method, path,
// lower-cased headers, client address and bearer token of an HTTP event;
// the accessToken member and the trusted wx.cloud caller of a direct
// invocation (userInfo trusted when its appId is weChatAppID; empty
// trusts none). The body is left to the caller, so it is neither parsed
// nor held to MaxBody: a function of the team's may take forms, uploads or
// larger JSON. An event that is not a JSON object, or an HTTP event that
// is malformed, is INVALID_REQUEST.
func ParseHead(ctx context.Context, payload []byte, weChatAppID string) (*Request, error) {
	req := &Request{Kind: Direct}
	var ev *httpEvent
	top, err := parseObject(payload)
	switch {
	case err != nil:
	case isHTTPEvent(top):
		ev, err = decodeHTTPEvent(payload)
		if err == nil {
			req.Kind = ev.kind()
			req.Method = ev.HTTPMethod
			req.Path = normalizePath(ev.Path)
			req.Headers = ev.Headers
			req.ClientIP = ev.clientIP()
			req.AccessToken = bearer(ev.Headers)
		}
	default:
		f := &Function{WeChatAppID: weChatAppID}
		err = f.parseDirect(req, top, 0) // 0: the size is the caller's business
		req.Fields, req.action = nil, ""
	}
	req.RequestID = requestID(ctx, ev)
	return req, err
}
