package adapter

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"sort"
	"strings"

	"github.com/wxauth/scf-auth/pkg/apierror"
)

// httpEvent is what API Gateway and function URLs send. Only the members the
// functions use are decoded.
type httpEvent struct {
	HTTPMethod      string            `json:"httpMethod"`
	Path            string            `json:"path"`
	Headers         map[string]string `json:"headers"`
	Body            *string           `json:"body"`
	IsBase64Encoded flag              `json:"isBase64Encoded"`
	RequestContext  *struct {
		SourceIP  string `json:"sourceIp"`
		RequestID string `json:"requestId"`
	} `json:"requestContext"`
}

// flag is a boolean that some event sources send as a string.
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true", `"true"`, `"TRUE"`, `"True"`:
		*f = true
	case "false", `"false"`, `"FALSE"`, `"False"`, "null", `""`:
		*f = false
	default:
		return errors.New("not a boolean")
	}
	return nil
}

// httpResponse is the integrated response both HTTP event sources expect.
type httpResponse struct {
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
}

// Members of a direct invocation that are not body fields.
const (
	memberAction      = "action"
	memberAccessToken = "accessToken"
	memberUserInfo    = "userInfo"
	// memberTCBContext is context CloudBase may add to wx.cloud events; it
	// is the platform's, not the caller's, so it is neither a field nor an
	// unknown-field error.
	memberTCBContext = "tcbContext"
)

// isHTTPEvent reports whether a top-level event object came from HTTP
// (API Gateway or a function URL). A wx.cloud call is a direct invocation
// whatever its data holds: the platform names its caller in the
// invocation's context, or on older platforms adds userInfo (and
// CloudBase tcbContext) to the event, none of which an HTTP event has, so
// a caller cannot pass its call off as an HTTP request with an address of
// its choosing.
func isHTTPEvent(top Fields, wx wxContext) bool {
	_, method := top["httpMethod"]
	_, user := top[memberUserInfo]
	_, tcb := top[memberTCBContext]
	return method && !user && !tcb && !wx.namesCaller()
}

func decodeHTTPEvent(payload []byte) (*httpEvent, error) {
	var ev httpEvent
	if err := json.Unmarshal(payload, &ev); err != nil || ev.HTTPMethod == "" {
		return nil, apierror.BadBody("malformed HTTP event")
	}
	ev.Headers = lowerHeaders(ev.Headers)
	ev.HTTPMethod = strings.ToUpper(ev.HTTPMethod)
	return &ev, nil
}

// lowerHeaders gives headers lower-case names, as the platform sends
// them. When two names differ only in case, the one already in lower case
// (the platform's) wins, else the first in sorted order: never whichever
// a map happens to yield first.
func lowerHeaders(in map[string]string) map[string]string {
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make(map[string]string, len(in))
	for _, k := range names {
		lower := strings.ToLower(k)
		if _, taken := out[lower]; taken && k != lower {
			continue
		}
		out[lower] = in[k]
	}
	return out
}

func (ev *httpEvent) kind() Kind {
	if ev.RequestContext != nil {
		return APIGateway
	}
	return FunctionURL
}

// body returns the decoded body, enforcing the size cap.
func (ev *httpEvent) body() ([]byte, error) {
	if ev.Body == nil {
		return nil, nil
	}
	raw := *ev.Body
	if !ev.IsBase64Encoded {
		if len(raw) > MaxBody {
			return nil, apierror.TooLarge(MaxBody)
		}
		return []byte(raw), nil
	}
	if base64.StdEncoding.DecodedLen(len(raw)) > MaxBody+3 {
		return nil, apierror.TooLarge(MaxBody)
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, apierror.BadBody("body is not valid base64")
	}
	if len(b) > MaxBody {
		return nil, apierror.TooLarge(MaxBody)
	}
	return b, nil
}

// clientIP is the address the platform saw, as it reported it: API
// Gateway's requestContext.sourceIp, or for a function URL its
// x-scf-remote-addr header. Never a header a client can set through API
// Gateway, and never X-Forwarded-For.
func (ev *httpEvent) clientIP() string {
	if ev.RequestContext != nil {
		return ev.RequestContext.SourceIP
	}
	return ev.Headers["x-scf-remote-addr"]
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(headers map[string]string) string {
	h := strings.TrimSpace(headers["authorization"])
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// normalizePath drops a trailing slash so that /profile/ is /profile.
func normalizePath(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	for len(p) > 1 && strings.HasSuffix(p, "/") {
		p = p[:len(p)-1]
	}
	if p == "" {
		return "/"
	}
	return p
}

// userInfo is the member wx.cloud.callFunction injects.
type userInfo struct {
	AppID  string `json:"appId"`
	OpenID string `json:"openId"`
}

// directMembers splits a direct invocation into body fields and the
// reserved members.
func directMembers(top Fields) (fields Fields, action, token string, info *userInfo, err error) {
	fields = Fields{}
	for k, v := range top {
		fields[k] = v
	}
	delete(fields, memberAction)
	delete(fields, memberAccessToken)
	delete(fields, memberUserInfo)
	delete(fields, memberTCBContext)

	if action, _, err = top.String(memberAction); err != nil {
		return nil, "", "", nil, err
	}
	if token, _, err = top.String(memberAccessToken); err != nil {
		return nil, "", "", nil, err
	}
	if raw, ok := top[memberUserInfo]; ok && !top.IsNull(memberUserInfo) {
		info = new(userInfo)
		if raw[0] != '{' || json.Unmarshal(raw, info) != nil {
			return nil, "", "", nil, apierror.BadField(memberUserInfo, "must be an object with appId and openId")
		}
	}
	return fields, action, token, info, nil
}
