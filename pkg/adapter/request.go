package adapter

import (
	"context"
	"net/netip"
)

// Kind is the kind of event a request arrived as.
type Kind string

// The three kinds of event of API.md §1.
const (
	APIGateway  Kind = "apigateway"
	FunctionURL Kind = "functionurl"
	Direct      Kind = "direct"
)

// MaxBody is the largest body (or direct-invocation event) accepted.
const MaxBody = 16 << 10

// Request is what a handler sees of an event, whatever its kind.
type Request struct {
	Kind      Kind
	RequestID string
	// Method and Path are the matched route's, also for direct invocations.
	Method string
	Path   string
	// PathValue is the segment that a route's last segment {…} matched
	// (the id of /profile/sessions/{id}); empty for other routes and for
	// direct invocations.
	PathValue string
	// Headers has lower-case names; empty for direct invocations.
	Headers map[string]string
	// Fields are the body's members (for direct invocations, the event's
	// members other than action, accessToken and userInfo).
	Fields Fields
	// ClientIP is the address the platform reported, parsed and written
	// out again ("203.0.113.7", "2001:db8::1"; an IPv4-mapped address as
	// its IPv4 address): requestContext.sourceIp of an API Gateway event,
	// the x-scf-remote-addr header of a function URL event, WX_CLIENTIP of
	// a trusted wx.cloud caller. Empty when there is none or it does not
	// parse. Never X-Forwarded-For. Limits count by ClientKey.
	ClientIP string
	// AccessToken is the bearer token of the Authorization header, or the
	// accessToken member of a direct invocation.
	AccessToken string
	// Caller is the wx.cloud user the platform vouches for (API.md §1):
	// from the invocation's context or the legacy userInfo member, nil
	// unless this is a direct invocation from one of the deployment's
	// mini-programs.
	Caller *Caller

	// clientAddr is ClientIP before it was written out; invalid when none.
	clientAddr netip.Addr
	// action is the direct invocation's action, until routing.
	action string
}

// Caller is a mini-program user identified by the WeChat platform itself.
type Caller struct {
	AppID  string
	OpenID string
	// UnionID is WX_UNIONID: set when the app is bound to an open-platform
	// account, and then the same for the user in all of its apps.
	UnionID string
}

// HandlerFunc serves one route. It returns the data of a successful answer,
// or an error, ideally an *apierror.Error.
type HandlerFunc func(ctx context.Context, req *Request) (any, error)

// Route is one HTTP route of a function and its direct-invocation action.
type Route struct {
	Method string
	Path   string
	// Action names the route for direct invocations; empty when the route
	// is an alias (PUT for PATCH) that direct callers reach another way.
	Action string
	Handle HandlerFunc
}
