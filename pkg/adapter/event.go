package adapter

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
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

// isHTTPEvent reports whether a top-level event object came from HTTP.
func isHTTPEvent(top Fields) bool {
	_, ok := top["httpMethod"]
	return ok
}

func decodeHTTPEvent(payload []byte) (*httpEvent, error) {
	var ev httpEvent
	if err := json.Unmarshal(payload, &ev); err != nil || ev.HTTPMethod == "" {
		return nil, apierror.BadBody("malformed HTTP event")
	}
	headers := make(map[string]string, len(ev.Headers))
	for k, v := range ev.Headers {
		headers[strings.ToLower(k)] = v
	}
	ev.Headers = headers
	ev.HTTPMethod = strings.ToUpper(ev.HTTPMethod)
	return &ev, nil
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

// clientIP is the address the platform saw, never a client-supplied header.
func (ev *httpEvent) clientIP() string {
	ip := ""
	if ev.RequestContext != nil {
		ip = ev.RequestContext.SourceIP
	}
	if ip == "" {
		ip = ev.Headers["x-scf-remote-addr"]
	}
	ip = strings.TrimSpace(ip)
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	return ip
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
