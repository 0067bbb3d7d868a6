package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// servedFunction serves a function over real HTTP, as its function URL
// does: each request becomes a function URL event, each answer an HTTP
// response. Serve swaps the function behind it, as a deploy does.
type servedFunction struct {
	*httptest.Server
	mu sync.Mutex
	f  *functest.Function
}

func serve(t *testing.T, f *functest.Function) *servedFunction {
	t.Helper()
	s := &servedFunction{f: f}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		headers := map[string]string{}
		for name, values := range r.Header {
			headers[strings.ToLower(name)] = strings.Join(values, ", ")
		}
		s.mu.Lock()
		f := s.f
		s.mu.Unlock()
		a := f.HTTP(functest.Request{Method: r.Method, Path: r.URL.Path, Body: string(body), Headers: headers, FunctionURL: true})
		for name, value := range a.Headers {
			w.Header().Set(name, value)
		}
		w.WriteHeader(a.Status)
		_, _ = io.WriteString(w, a.Raw)
	}))
	t.Cleanup(s.Close)
	return s
}

// Serve puts f behind the URL.
func (s *servedFunction) Serve(f *functest.Function) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.f = f
}
