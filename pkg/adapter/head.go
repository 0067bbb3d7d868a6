package adapter

import (
	"context"
	"encoding/json"
)

// headMembers are the members of an event that say who sends it and how:
// an HTTP event's method, path, headers and platform context; a direct
// invocation's token and the platform's members. The body and a direct
// invocation's own fields are not among them.
var headMembers = []string{"httpMethod", "path", "headers", "requestContext", memberAccessToken, memberUserInfo, memberTCBContext}

// ParseHead reads what one event says about its request and its caller,
// exactly as a Function reads it (the same parse, on the event without
// its body), for code that is not a Function: the team's own functions
// authenticating their callers (package authn). It fills every member of
// Request but Fields: the kind, the request id, method, path, lower-cased
// headers, client address and bearer token of an HTTP event; the
// accessToken member and the trusted wx.cloud caller of a direct
// invocation (trusted when its app is one of miniPrograms; empty trusts
// none).
// The body, and a direct invocation's other members, are left to the
// caller, so they are neither parsed nor held to MaxBody: a function of the
// team's may take forms, uploads or larger JSON. An event that is not a
// JSON object, or whose head is malformed, is INVALID_REQUEST.
func ParseHead(ctx context.Context, payload []byte, miniPrograms []string) (*Request, error) {
	top, err := parseObject(payload)
	if err != nil {
		return &Request{Kind: Direct, RequestID: requestID(ctx, nil)}, err
	}
	head := Fields{}
	for _, name := range headMembers {
		if raw, ok := top[name]; ok {
			head[name] = raw
		}
	}
	reduced, err := json.Marshal(head)
	if err != nil {
		return nil, err // raw JSON taken from a parsed object always marshals
	}
	f := &Function{MiniPrograms: miniPrograms}
	req, _, err := f.parse(ctx, reduced)
	req.Fields, req.action = nil, ""
	return req, err
}
