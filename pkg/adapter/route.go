package adapter

import (
	"sort"
	"strings"

	"github.com/wxauth/scf-auth/pkg/apierror"
)

// route finds the route of a request: by path and method for HTTP, by
// action for direct invocations.
func (f *Function) route(req *Request) (Route, error) {
	if req.Kind == Direct {
		return f.routeAction(req.action)
	}
	allowed := f.methodsFor(req.Path)
	if len(allowed) == 0 {
		return Route{}, apierror.RouteNotFound()
	}
	for _, r := range f.Routes {
		if f.matches(req.Path, r) && r.Method == req.Method {
			return r, nil
		}
	}
	return Route{}, apierror.WrongMethod(allowed)
}

func (f *Function) routeAction(action string) (Route, error) {
	var actions []string
	for _, r := range f.Routes {
		if r.Action == "" {
			continue
		}
		if r.Action == action {
			return r, nil
		}
		actions = append(actions, r.Action)
	}
	if action == "" {
		return Route{}, apierror.BadField(memberAction, "is required: one of "+strings.Join(actions, ", "))
	}
	return Route{}, apierror.BadField(memberAction, "must be one of "+strings.Join(actions, ", "))
}

func (f *Function) methodsFor(path string) []string {
	var methods []string
	for _, r := range f.Routes {
		if f.matches(path, r) {
			methods = append(methods, r.Method)
		}
	}
	sort.Strings(methods)
	return methods
}

// matches reports whether a request path is the route r (API.md §1). A
// function URL belongs to one function, so its path is what follows the
// function's own segment: "/" (or empty) for the function's root route,
// "/phone" for /profile/phone. The full route (/profile/phone) routes the
// same, also below a base path that a custom domain or a gateway puts in
// front (/api/profile/phone, /release/send-sms). Routes start with a
// slash, so a base path always ends at a segment boundary; a base path
// never holds a segment of the function's routes or a dot segment, so that
// a path that goes on after a route (/profile/sessions/x/profile,
// /sessions/x/profile, x/../profile) is no other route.
//
// A route whose last segment is a {name} placeholder matches any one
// non-empty segment there; the handler reads it as Request.PathValue.
func (f *Function) matches(path string, r Route) bool {
	if prefix, ok := placeholderRoute(r.Path); ok {
		i := strings.LastIndex(path, "/")
		return i >= 0 && i < len(path)-1 && f.matches(path[:i], Route{Path: prefix})
	}
	if path == r.Path || strings.HasSuffix(path, r.Path) && f.isBasePath(path[:len(path)-len(r.Path)]) {
		return true
	}
	below, ok := f.belowFunction(r.Path)
	return ok && path == below
}

// isBasePath reports whether base may stand in front of a full route.
func (f *Function) isBasePath(base string) bool {
	for _, segment := range strings.Split(base, "/") {
		if segment == "." || segment == ".." || f.hasSegment(segment) {
			return false
		}
	}
	return true
}

// hasSegment reports whether one of the function's routes has segment.
func (f *Function) hasSegment(segment string) bool {
	for _, r := range f.Routes {
		for _, s := range strings.Split(r.Path, "/") {
			if s != "" && s == segment {
				return true
			}
		}
	}
	return false
}

// belowFunction is a route's path without the function's segment, as a
// function URL receives it: "/" for /profile, "/phone" for /profile/phone.
// ok is false for a route outside the function's segment.
func (f *Function) belowFunction(route string) (string, bool) {
	segment := "/" + f.Name
	switch {
	case f.Name == "":
		return "", false
	case route == segment:
		return "/", true
	case strings.HasPrefix(route, segment+"/"):
		return route[len(segment):], true
	}
	return "", false
}

// placeholderRoute returns the route before its last segment if that is
// a {name} placeholder.
func placeholderRoute(route string) (prefix string, ok bool) {
	i := strings.LastIndex(route, "/")
	last := route[i+1:]
	if i < 0 || len(last) < 3 || last[0] != '{' || last[len(last)-1] != '}' {
		return "", false
	}
	return route[:i], true
}

// pathValue is the segment of path that route's placeholder matched.
func pathValue(path, route string) string {
	if _, ok := placeholderRoute(route); !ok {
		return ""
	}
	return path[strings.LastIndex(path, "/")+1:]
}
