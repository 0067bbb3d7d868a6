package checker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/wxauth/scf-auth/scripts/internal/localscf"
)

// answer is what one request was answered.
type answer struct {
	// Status is the HTTP status; 0 for a direct invocation.
	Status int
	Code   string         `json:"code"`
	Data   map[string]any `json:"data"`
	// Err is a failure to get an answer at all.
	Err error
}

func (a answer) ok() bool { return a.Err == nil && a.Code == "OK" }

// str reads a string member of data; a dotted key reads into objects.
func (a answer) str(key string) string {
	v := any(a.Data)
	for _, part := range strings.Split(key, ".") {
		m, _ := v.(map[string]any)
		v = m[part]
	}
	s, _ := v.(string)
	return s
}

// user is the id of the account answered, if any.
func (a answer) user() string {
	if id := a.str("user.id"); id != "" {
		return id
	}
	return ""
}

func (a answer) userField(name string) any {
	u, _ := a.Data["user"].(map[string]any)
	return u[name]
}

func (a answer) String() string {
	if a.Err != nil {
		return "error: " + a.Err.Error()
	}
	s := a.Code
	if a.Status != 0 {
		s = fmt.Sprintf("%d %s", a.Status, a.Code)
	}
	if id := a.user(); id != "" {
		s += " user " + id
	}
	return s
}

// call sends an HTTP request through the gateway.
func (w *World) call(ctx context.Context, method, path, body, bearer string) answer {
	req, err := http.NewRequestWithContext(ctx, method, w.URL+path, strings.NewReader(body))
	if err != nil {
		return answer{Err: err}
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{Err: err}
	}
	a := answer{Status: resp.StatusCode}
	if err := json.Unmarshal(raw, &a); err != nil {
		return answer{Err: fmt.Errorf("%s %s answered %d %q", method, path, resp.StatusCode, raw)}
	}
	return a
}

// invoke sends a direct invocation to a function, as wx.cloud does.
func (w *World) invoke(ctx context.Context, function string, event map[string]any) answer {
	p := w.Functions[function]
	raw, err := json.Marshal(event)
	if err != nil {
		return answer{Err: err}
	}
	out, err := localscf.InvokeDirect(ctx, p, raw)
	if err != nil {
		return answer{Err: err}
	}
	var a answer
	if err := json.NewDecoder(bytes.NewReader(out)).Decode(&a); err != nil {
		return answer{Err: fmt.Errorf("%s answered %q", function, out)}
	}
	return a
}

// body encodes members as a JSON object.
func body(kv ...any) string {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}
