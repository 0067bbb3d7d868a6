package functest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
)

// WeChatSecrets are the secret values WeChat handed the functions in one
// test: every session_key of jscode2session and every access_token of
// stable_token, seen on the wire between the functions and the simulator,
// and the app secret the functions send. Tests check that none of them
// appears in a log line or an answer. Looking for the values, not for
// words such as "session_key", catches a secret logged under any name.
type WeChatSecrets struct {
	mu     sync.Mutex
	values map[string]string // value → what it is
	seen   map[string]int    // what → how many were seen
}

// WatchWeChatSecrets puts a recording proxy between the functions built
// from now on and the WeChat simulator, and returns what it records.
func (e *Env) WatchWeChatSecrets() *WeChatSecrets {
	e.t.Helper()
	target, err := url.Parse(e.Vars["WECHAT_API_BASE"])
	if err != nil {
		e.t.Fatal(err)
	}
	w := &WeChatSecrets{values: map[string]string{AppSecret: "the app secret"}, seen: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		body, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var answer map[string]any
		if json.Unmarshal(body, &answer) == nil {
			w.note(answer, "session_key")
			w.note(answer, "access_token")
		}
		return nil
	}
	server := httptest.NewServer(proxy)
	e.t.Cleanup(server.Close)
	e.Vars["WECHAT_API_BASE"] = server.URL
	return w
}

func (w *WeChatSecrets) note(answer map[string]any, member string) {
	v, _ := answer[member].(string)
	if v == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, known := w.values[v]; !known {
		w.seen[member]++
	}
	w.values[v] = "a " + member
	// A base64 session_key may be logged without its padding.
	if trimmed := strings.TrimRight(v, "="); trimmed != v {
		w.values[trimmed] = "a " + member + " without its padding"
	}
}

// Seen is how many distinct values of member ("session_key",
// "access_token") WeChat answered so far.
func (w *WeChatSecrets) Seen(member string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen[member]
}

// CheckAbsent fails the test for every secret that text (a log, an
// answer, what) holds, naming the line.
func (w *WeChatSecrets) CheckAbsent(t testing.TB, what, text string) {
	t.Helper()
	w.mu.Lock()
	kinds := make(map[string]string, len(w.values))
	values := make([]string, 0, len(w.values))
	for v, kind := range w.values {
		kinds[v] = kind
		values = append(values, v)
	}
	w.mu.Unlock()
	// Longest first: a value is named whole before its unpadded form.
	sort.Slice(values, func(i, j int) bool {
		if len(values[i]) != len(values[j]) {
			return len(values[i]) > len(values[j])
		}
		return values[i] < values[j]
	})
	for i, line := range strings.Split(text, "\n") {
		for _, v := range values {
			if strings.Contains(line, v) {
				t.Errorf("%s, line %d, holds %s: %s", what, i+1, kinds[v], line)
				break
			}
		}
	}
}
