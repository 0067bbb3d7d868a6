package localscf

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"unicode/utf8"
)

// maxGatewayBody is what the front reads of a request; the functions
// themselves refuse bodies over 16 KiB with PAYLOAD_TOO_LARGE.
const maxGatewayBody = 1 << 20

// Gateway is the HTTP front: it turns each request into an API Gateway
// event for the function its first path segment names, and the function's
// integrated response back into HTTP. Below WXCloudPath it plays
// wx.cloud.callFunction instead.
type Gateway struct {
	Functions map[string]*Process
	Logger    *slog.Logger
	// WeChatAppID is the app of a wx.cloud call that names none
	// (WECHAT_APPID).
	WeChatAppID string
}

// WXCloudPath is where the front plays wx.cloud.callFunction, so that the
// wx.cloud path runs locally as on the platform: POST
// /_wxcloud/<function> with the call's data as the JSON body invokes the
// function directly (no HTTP event), with the caller the X-WX-OPENID,
// X-WX-UNIONID and X-WX-APPID headers name (the names WeChat gives them in
// its cloud-hosting containers; the app defaults to WeChatAppID) in the
// invocation's context, as the platform passes a wx.cloud caller, and the
// request's address as WX_CLIENTIP. Without X-WX-OPENID there is no
// context, as for the SCF Invoke API. The answer is the function's
// envelope, as callFunction's result. Locally anyone may claim any
// caller, as anyone may mint the WeChat simulator's codes.
const WXCloudPath = "/_wxcloud/"

// WXCloudContext is the invocation context of a wx.cloud call from user
// openID (unionID, clientIP when not empty) of app appID: its WX_ keys,
// and WX_CONTEXT_KEYS listing them, as the platform passes it.
func WXCloudContext(appID, openID, unionID, clientIP string) map[string]string {
	env := map[string]string{}
	var keys []string
	for _, kv := range [][2]string{{"WX_APPID", appID}, {"WX_OPENID", openID}, {"WX_UNIONID", unionID}, {"WX_CLIENTIP", clientIP}} {
		if kv[1] != "" {
			env[kv[0]] = kv[1]
			keys = append(keys, kv[0])
		}
	}
	env["WX_CONTEXT_KEYS"] = strings.Join(keys, ",")
	return env
}

// apiGatewayEvent is the event API Gateway sends a function.
type apiGatewayEvent struct {
	HTTPMethod            string            `json:"httpMethod"`
	Path                  string            `json:"path"`
	Headers               map[string]string `json:"headers"`
	QueryString           map[string]any    `json:"queryString"`
	Body                  string            `json:"body"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
	RequestContext        map[string]any    `json:"requestContext"`
	PathParameters        map[string]string `json:"pathParameters"`
	QueryStringParameters map[string]string `json:"queryStringParameters"`
	HeaderParameters      map[string]string `json:"headerParameters"`
}

type integratedResponse struct {
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newID()
	if name, ok := strings.CutPrefix(r.URL.Path, WXCloudPath); ok {
		g.serveWXCloud(w, r, requestID, name)
		return
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	fn := g.Functions[name]
	if fn == nil {
		writeEnvelope(w, requestID, http.StatusNotFound, "NOT_FOUND", "请求的接口不存在")
		return
	}
	body, ok := readBody(w, r, requestID)
	if !ok {
		return
	}
	payload, err := json.Marshal(toEvent(r, body, requestID))
	if err != nil {
		writeEnvelope(w, requestID, http.StatusInternalServerError, "INTERNAL", "服务器开小差了，请稍后再试")
		return
	}
	out, err := fn.Invoke(r.Context(), requestID, payload)
	if err != nil {
		g.logger().Error("function failed", "function", name, "requestId", requestID, "cause", err.Error())
		writeEnvelope(w, requestID, http.StatusBadGateway, "INTERNAL", "服务器开小差了，请稍后再试")
		return
	}
	var resp integratedResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
		g.logger().Error("function answered no integrated response", "function", name, "answer", string(out))
		writeEnvelope(w, requestID, http.StatusBadGateway, "INTERNAL", "服务器开小差了，请稍后再试")
		return
	}
	respBody := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if respBody, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			writeEnvelope(w, requestID, http.StatusBadGateway, "INTERNAL", "服务器开小差了，请稍后再试")
			return
		}
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(respBody)
}

// serveWXCloud plays wx.cloud.callFunction (see WXCloudPath).
func (g *Gateway) serveWXCloud(w http.ResponseWriter, r *http.Request, requestID, name string) {
	fn := g.Functions[name]
	switch {
	case fn == nil:
		writeEnvelope(w, requestID, http.StatusNotFound, "NOT_FOUND", "请求的接口不存在")
		return
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		writeEnvelope(w, requestID, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "不支持该请求方法")
		return
	}
	body, ok := readBody(w, r, requestID)
	if !ok {
		return
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}") // callFunction without data
	}
	inv := Invocation{RequestID: requestID, Payload: body}
	if openID := r.Header.Get("X-WX-OPENID"); openID != "" {
		appID := r.Header.Get("X-WX-APPID")
		if appID == "" {
			appID = g.WeChatAppID
		}
		inv.Environment = WXCloudContext(appID, openID, r.Header.Get("X-WX-UNIONID"), remoteIP(r))
	}
	out, err := fn.InvokeWith(r.Context(), inv)
	if err != nil {
		g.logger().Error("function failed", "function", name, "requestId", requestID, "cause", err.Error())
		writeEnvelope(w, requestID, http.StatusBadGateway, "INTERNAL", "服务器开小差了，请稍后再试")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Request-Id", requestID)
	_, _ = w.Write(out)
}

// readBody reads a request's body, answering for the gateway when it
// cannot.
func readBody(w http.ResponseWriter, r *http.Request, requestID string) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxGatewayBody+1))
	if err != nil {
		writeEnvelope(w, requestID, http.StatusBadRequest, "INVALID_REQUEST", "请求参数有误")
		return nil, false
	}
	if len(body) > maxGatewayBody {
		writeEnvelope(w, requestID, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "请求内容过大")
		return nil, false
	}
	return body, true
}

func (g *Gateway) logger() *slog.Logger {
	if g.Logger != nil {
		return g.Logger
	}
	return slog.Default()
}

func toEvent(r *http.Request, body []byte, requestID string) apiGatewayEvent {
	headers := map[string]string{}
	for k, v := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	headers["host"] = r.Host
	query := map[string]any{}
	for k, v := range r.URL.Query() {
		if len(v) == 1 {
			query[k] = v[0]
		} else {
			query[k] = v
		}
	}
	ev := apiGatewayEvent{
		HTTPMethod: r.Method, Path: r.URL.Path, Headers: headers, QueryString: query,
		RequestContext: map[string]any{
			"serviceId": "service-local", "stage": "dev", "path": r.URL.Path, "httpMethod": "ANY",
			"requestId": requestID, "sourceIp": remoteIP(r), "identity": map[string]any{},
		},
		PathParameters: map[string]string{}, QueryStringParameters: map[string]string{}, HeaderParameters: map[string]string{},
	}
	if utf8.Valid(body) {
		ev.Body = string(body)
	} else {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	return ev
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// writeEnvelope answers for the gateway itself, in the functions' shape.
func writeEnvelope(w http.ResponseWriter, requestID string, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Request-Id", requestID)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		Data      any    `json:"data"`
		RequestID string `json:"requestId"`
	}{code, message, nil, requestID})
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// InvokeDirect sends a raw event (a direct invocation, or any event) to a
// function, as `scf invoke` would.
func InvokeDirect(ctx context.Context, p *Process, event []byte) ([]byte, error) {
	return InvokeWithContext(ctx, p, event, nil)
}

// InvokeWithContext sends a raw event with environment as the invocation's
// context (nil: none), as the platform does for a wx.cloud call.
func InvokeWithContext(ctx context.Context, p *Process, event []byte, environment map[string]string) ([]byte, error) {
	if !json.Valid(event) {
		return nil, fmt.Errorf("the event is not JSON")
	}
	return p.InvokeWith(ctx, Invocation{RequestID: newID(), Payload: event, Environment: environment})
}
