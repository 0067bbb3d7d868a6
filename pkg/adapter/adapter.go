package adapter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/logging"
	"github.com/wxauth/scf-auth/pkg/roundtrip"
)

// Function serves every event of one SCF function. It implements
// cloudfunction.Handler, and never returns a Go error to the runtime: every
// failure is an answer.
type Function struct {
	// Name is the function's folder name under functions/.
	Name   string
	Routes []Route
	// DefaultAction is the action of a direct invocation that names none.
	DefaultAction string
	// MiniPrograms are the deployment's mini-programs: the wx.cloud
	// caller of a direct invocation is trusted when its app is one of
	// them. Empty trusts no caller.
	MiniPrograms []string
	// CORSOrigins are the browser origins allowed to call (cors.go).
	CORSOrigins []string
	Logger      *slog.Logger
	Now         func() time.Time
	// Broken, when set, is a cold-start failure (such as a bad variable):
	// every request answers INTERNAL and logs it.
	Broken error
}

// envelope is the body of every answer (API.md §2).
type envelope struct {
	Code      apierror.Code `json:"code"`
	Message   string        `json:"message"`
	Data      any           `json:"data"`
	RequestID string        `json:"requestId"`
}

// deadlineMargin is kept from the platform's deadline so that a slow
// dependency still ends in an answer rather than in the function being
// killed.
const deadlineMargin = 300 * time.Millisecond

// Invoke implements cloudfunction.Handler.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	received := f.now()
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-deadlineMargin))
		defer cancel()
	}
	ctx, counter := roundtrip.NewContext(ctx)
	req, httpEv, err := f.parse(ctx, payload)
	logger := f.logger().With("requestId", req.RequestID)
	ctx = logging.NewContext(ctx, logger)
	if httpEv != nil && err == nil && isPreflight(req) {
		if out, ok := f.preflight(req, logger, received); ok {
			return out, nil
		}
	}

	var data any
	if err == nil {
		data, err = f.call(ctx, req)
	}
	doc, isDoc := data.(Document)
	if isDoc {
		data = doc.Data
	}

	env := envelope{Code: apierror.OK, Message: apierror.OK.Message(), Data: data, RequestID: req.RequestID}
	status := http.StatusOK
	var apiErr *apierror.Error
	if err != nil {
		apiErr = apierror.As(err)
		env.Code, env.Message, env.Data = apiErr.Code, apiErr.Message(), apiErr.Data
		status = apiErr.Status()
	}
	f.logRequest(logger, req, status, env.Code, apiErr, received, counter.Load())

	body, mErr := json.Marshal(env)
	if mErr != nil {
		logger.Error("answer could not be encoded", "cause", mErr.Error())
		env = envelope{Code: apierror.Internal, Message: apierror.Internal.Message(), RequestID: req.RequestID}
		status = http.StatusInternalServerError
		body, _ = json.Marshal(env)
	}
	if httpEv == nil {
		return body, nil
	}
	headers := map[string]string{
		"Content-Type":  "application/json; charset=utf-8",
		"X-Request-Id":  req.RequestID,
		"Cache-Control": "no-store",
	}
	if apiErr != nil && apiErr.Code == apierror.MethodNotAllowed {
		headers["Allow"] = strings.Join(f.methodsFor(req.Path), ", ")
	}
	f.addCORS(req, headers)
	if isDoc && err == nil {
		headers["Content-Type"], headers["Cache-Control"], body = doc.ContentType, doc.CacheControl, doc.Body
	}
	return json.Marshal(httpResponse{StatusCode: status, Headers: headers, Body: string(body)})
}

// call runs the handler, turning a panic into INTERNAL.
func (f *Function) call(ctx context.Context, req *Request) (data any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = apierror.Bug(fmt.Errorf("panic: %v\n%s", p, debug.Stack()))
		}
	}()
	if f.Broken != nil {
		return nil, apierror.Bug(f.Broken)
	}
	route, err := f.route(req)
	if err != nil {
		return nil, err
	}
	req.PathValue = pathValue(req.Path, route.Path)
	req.Method, req.Path = route.Method, route.Path
	return route.Handle(ctx, req)
}

// parse turns an event into a Request. The Request always has a request id,
// even when the event is refused, so that the answer and the log carry one.
func (f *Function) parse(ctx context.Context, payload []byte) (*Request, *httpEvent, error) {
	req := &Request{Kind: Direct, Fields: Fields{}}
	ev, err := f.parseEvent(req, payload, invocationContext(ctx))
	req.RequestID = requestID(ctx, ev)
	return req, ev, err
}

// parseEvent fills req from the event and the invocation's wx.cloud
// context, and returns the HTTP event, or nil for a direct invocation.
func (f *Function) parseEvent(req *Request, payload []byte, wx wxContext) (*httpEvent, error) {
	top, err := parseObject(payload)
	switch {
	case err != nil && len(payload) > MaxBody:
		return nil, apierror.TooLarge(MaxBody)
	case err != nil:
		return nil, err
	case !isHTTPEvent(top, wx):
		return nil, f.parseDirect(req, top, len(payload), wx)
	}
	ev, err := decodeHTTPEvent(payload)
	if err != nil {
		return nil, err
	}
	req.Kind = ev.kind()
	req.Method = ev.HTTPMethod
	req.Path = normalizePath(ev.Path)
	req.Headers = ev.Headers
	req.setClientAddr(ev.clientIP())
	req.AccessToken = bearer(ev.Headers)
	return ev, f.parseHTTPBody(req, ev)
}

func (f *Function) parseHTTPBody(req *Request, ev *httpEvent) error {
	body, err := ev.body()
	if err != nil {
		return err
	}
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		return nil
	}
	if strings.TrimSpace(string(body)) == "" {
		return nil
	}
	fields, err := parseObject(body)
	if err != nil {
		return err
	}
	// A userInfo in an HTTP body is whatever the client typed: it is dropped,
	// never trusted, and not an error (API.md §1).
	delete(fields, memberUserInfo)
	req.Fields = fields
	return nil
}

// parseDirect fills req from a direct invocation: its fields, action and
// token, and the wx.cloud caller the platform vouches for, whose
// WX_CLIENTIP is then the client address.
func (f *Function) parseDirect(req *Request, top Fields, size int, wx wxContext) error {
	if size > MaxBody {
		return apierror.TooLarge(MaxBody)
	}
	fields, action, token, info, err := directMembers(top)
	if err != nil {
		return err
	}
	req.Fields = fields
	req.AccessToken = token
	if action == "" {
		action = f.DefaultAction
	}
	req.action = action
	if req.Caller, err = callerOf(wx, info, f.MiniPrograms); err != nil {
		return err
	}
	if req.Caller != nil {
		req.setClientAddr(wx.clientIP)
	}
	return nil
}

func (f *Function) logRequest(logger *slog.Logger, req *Request, status int, code apierror.Code, apiErr *apierror.Error, received time.Time, roundTrips int) {
	attrs := []any{
		"kind", string(req.Kind), "method", req.Method, "path", req.Path,
		"status", status, "code", string(code),
		"ms", f.now().Sub(received).Milliseconds(), "dbRoundTrips", roundTrips,
	}
	if apiErr != nil && apiErr.Cause != nil {
		attrs = append(attrs, "cause", apiErr.Cause.Error())
	}
	if status >= http.StatusInternalServerError {
		logger.Error("request failed", attrs...)
		return
	}
	logger.Info("request", attrs...)
}

// requestID is the platform's invocation id when there is one, else API
// Gateway's, else a fresh random id.
func requestID(ctx context.Context, ev *httpEvent) string {
	if fc, ok := functioncontext.FromContext(ctx); ok && fc != nil && fc.RequestID != "" {
		return fc.RequestID
	}
	if ev != nil && ev.RequestContext != nil && ev.RequestContext.RequestID != "" {
		return ev.RequestContext.RequestID
	}
	return newRequestID()
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

func (f *Function) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Function) logger() *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return slog.Default()
}
