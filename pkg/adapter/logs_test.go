package adapter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/logging"
)

// Every line a request logs, the handler's own included, names the
// request's id, the one its answer carries; an answer of 5xx is logged as
// an error with its cause, which the answer never carries.
func TestEveryLogLineNamesTheRequestAndA5xxItsCause(t *testing.T) {
	handler := func(status int) adapter.HandlerFunc {
		return func(ctx context.Context, _ *adapter.Request) (any, error) {
			logging.FromContext(ctx).Info("working on it")
			logging.FromContext(ctx).Debug("details")
			switch status {
			case 503:
				return nil, apierror.Unavailable(errors.New("db at 10.0.0.5 timed out"))
			case 502:
				return nil, apierror.SendFailed(errors.New("provider said no"))
			case 500:
				return nil, errors.New("a bug")
			case 409:
				return nil, apierror.Conflict("phone")
			}
			return map[string]any{}, nil
		}
	}
	for _, status := range []int{200, 409, 500, 502, 503} {
		for _, direct := range []bool{false, true} {
			var logs bytes.Buffer
			f := &adapter.Function{
				Name:          "logs",
				Routes:        []adapter.Route{{Method: "POST", Path: "/logs", Action: "go", Handle: handler(status)}},
				DefaultAction: "go",
				Logger:        slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			}
			event := encode(t, httpEvent("POST", "/logs", `{}`))
			if direct {
				event = []byte(`{}`)
			}
			a := invoke(t, f, event)
			if a.ReqID == "" {
				t.Fatal("no request id")
			}
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			if len(lines) < 3 {
				t.Fatalf("%d: %d log lines, want the handler's two and the request's", status, len(lines))
			}
			for _, raw := range lines {
				var line map[string]any
				if err := json.Unmarshal([]byte(raw), &line); err != nil {
					t.Fatalf("not JSON: %s", raw)
				}
				if line["requestId"] != a.ReqID {
					t.Errorf("%d (direct %v): a log line does not name request %s: %s", status, direct, a.ReqID, raw)
				}
				if line["msg"] == "working on it" || line["msg"] == "details" {
					continue
				}
				if status >= 500 && (line["level"] != "ERROR" || line["cause"] == nil || line["cause"] == "") {
					t.Errorf("%d (direct %v) is not logged as an error with its cause: %s", status, direct, raw)
				}
			}
			if raw := encode(t, a); strings.Contains(string(raw), "10.0.0.5") || strings.Contains(string(raw), "provider said") || strings.Contains(string(raw), "a bug") {
				t.Errorf("a cause reached the answer: %s", raw)
			}
		}
	}
}
