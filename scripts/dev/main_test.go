package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNewcomerCommand runs the local gateway as a newcomer does, checks
// its banner, uses the SMS code it prints, then stops it with Ctrl-C and
// checks that no function process is left behind.
func TestNewcomerCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs every function")
	}
	g := startGateway(t, "CAPTCHA_MODE=adaptive")
	var shown []string
	for _, want := range []string{"local gateway on " + g.base, "data folder: " + g.data,
		"SMS codes: printed below", `"dev:<name>:<anything unique>"`, `"captchaTicket":"dev-ok"`, "Ctrl-C stops everything"} {
		shown = append(shown, g.waitFor(t, want))
	}
	t.Logf("banner lines:\n%s", strings.Join(shown, "\n"))

	post(t, g.base+"/send-sms", `{"phone":"13800138000"}`, 200)
	code := waitForCode(t, g, "138****8000")
	session := post(t, g.base+"/phone-login", fmt.Sprintf(`{"phone":"13800138000","code":%q}`, code), 200)
	if session["isNewUser"] != true {
		t.Fatalf("login: %v", session)
	}
	post(t, g.base+"/wx-login", `{"code":"dev:newcomer:1"}`, 200)

	if !g.interrupt(15 * time.Second) {
		t.Fatal("gateway did not stop on Ctrl-C")
	}
	if left := processesUnder(t, g.dir); len(left) > 0 {
		t.Fatalf("function processes outlived the gateway: %v", left)
	}
}

// TestPortInUse: a port already taken is said at once, in one line that
// names the flag to change it.
func TestPortInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	bin := filepath.Join(dir, "dev")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", taken.Addr().String(), "-data", filepath.Join(dir, "data"))
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("started on a port in use")
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "in use") || !strings.Contains(lines[0], "-addr") {
		t.Fatalf("want one line naming -addr, got:\n%s", out)
	}
}

// withoutOverrides drops variables that would replace the local stand-ins.
func withoutOverrides(env []string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "MONGODB_URI", "WECHAT_API_BASE", "SMS_PROVIDER", "JWT_SECRET", "WECHAT_APPID", "WECHAT_SECRET",
			"CAPTCHA_MODE", "CAPTCHA_APP_ID", "CAPTCHA_APP_SECRET_KEY", "TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY":
			continue
		}
		out = append(out, kv)
	}
	return out
}

func post(t *testing.T, url, body string, status int) map[string]any {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct {
		Data map[string]any `json:"data"`
	}
	if resp.StatusCode != status || json.Unmarshal(raw, &env) != nil {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, raw)
	}
	return env.Data
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// processesUnder lists live processes whose executable lies under dir.
func processesUnder(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc to inspect")
	}
	var left []string
	for _, e := range entries {
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err == nil && strings.HasPrefix(exe, dir) {
			left = append(left, e.Name()+" "+exe)
		}
	}
	return left
}
