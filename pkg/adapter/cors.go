package adapter

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
)

// CORS lets the H5 pages of the origins CORS_ORIGINS lists (a 公众号's
// pages, a website) call the functions from a browser (API.md §4). A
// preflight (OPTIONS with Access-Control-Request-Method) of a known route
// is answered 204 with the route's methods and the request headers the
// functions read; every answer to a listed origin carries
// Access-Control-Allow-Origin with that origin, and Vary: Origin.
// Credentials are never allowed: the access token travels in the
// Authorization header, never in a cookie. Other origins get no CORS
// headers, so their browsers keep the answers from the page.

// corsAllowHeaders are the request headers a browser may send.
const corsAllowHeaders = "Authorization, Content-Type, X-Auth-Proof"

// corsMaxAge is how long a browser may keep a preflight's answer.
const corsMaxAge = "600"

// allowedOrigin is the request's Origin if CORS_ORIGINS lists it, else "".
func (f *Function) allowedOrigin(req *Request) string {
	origin := req.Headers["origin"]
	if origin == "" || !slices.Contains(f.CORSOrigins, origin) {
		return ""
	}
	return origin
}

// isPreflight reports whether an HTTP request is a browser's CORS
// preflight.
func isPreflight(req *Request) bool {
	return req.Method == http.MethodOptions && req.Headers["access-control-request-method"] != "" && req.Headers["origin"] != ""
}

// addCORS adds the CORS headers of an answer to a listed origin.
func (f *Function) addCORS(req *Request, headers map[string]string) {
	origin := f.allowedOrigin(req)
	headers["Vary"] = "Origin"
	if origin == "" {
		return
	}
	headers["Access-Control-Allow-Origin"] = origin
	headers["Access-Control-Expose-Headers"] = "X-Request-Id"
}

// preflight answers a CORS preflight: 204 with the route's methods for a
// listed origin, 204 without CORS headers for another (its browser then
// refuses the call), NOT_FOUND for an unknown route.
func (f *Function) preflight(req *Request, logger *slog.Logger, received time.Time) ([]byte, bool) {
	methods := f.methodsFor(req.Path)
	if len(methods) == 0 {
		return nil, false // an unknown route: answered NOT_FOUND as any other
	}
	headers := map[string]string{"X-Request-Id": req.RequestID, "Cache-Control": "no-store"}
	f.addCORS(req, headers)
	if headers["Access-Control-Allow-Origin"] != "" {
		headers["Access-Control-Allow-Methods"] = strings.Join(methods, ", ")
		headers["Access-Control-Allow-Headers"] = corsAllowHeaders
		headers["Access-Control-Max-Age"] = corsMaxAge
	}
	logger.Info("request", "kind", string(req.Kind), "method", req.Method, "path", req.Path, "status", http.StatusNoContent,
		"code", "PREFLIGHT", "allowed", headers["Access-Control-Allow-Origin"] != "", "ms", f.now().Sub(received).Milliseconds())
	out, _ := json.Marshal(httpResponse{StatusCode: http.StatusNoContent, Headers: headers, Body: ""}) // always encodes
	return out, true
}
