// Package miniprogram holds the mini-program client package (scf-auth.js,
// plain CommonJS) and this test, which makes `go test ./...` run its Node
// tests (test/*.test.js, Node's built-in runner) against a local gateway it
// starts, so that the README's one test command covers the client too.
package miniprogram

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// minNodeMajor is the oldest Node.js whose test runner the tests use
// (Debian 12's nodejs is 18).
const minNodeMajor = 18

// TestClientPackageUnderNode starts the local gateway with the tests'
// configuration (test/support/gateway-env.json), runs every Node test file
// against it, and fails with the runner's report when one fails. Node.js is
// required, not optional: .ci/run installs it where it is missing.
func TestClientPackageUnderNode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs every function, then the Node tests")
	}
	node := requireNode(t)
	files, err := filepath.Glob(filepath.Join("test", "*.test.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Node tests in test/: %v", err)
	}
	sort.Strings(files)
	g := startGateway(t, gatewayEnv(t))

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	args := append([]string{"--test", "--test-reporter=spec"}, files...)
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Env = append(os.Environ(), "SCF_AUTH_GATEWAY="+g.base, "SCF_AUTH_GATEWAY_LOG="+g.logPath, "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	report := string(out)
	if err != nil {
		t.Fatalf("node --test failed (%v); the gateway's output is in %s while the test runs:\n%s", err, g.logPath, report)
	}
	if !regexp.MustCompile(`(?m)^. pass [1-9]`).MatchString(report) || regexp.MustCompile(`(?m)^. fail [1-9]`).MatchString(report) {
		t.Fatalf("node --test passed no test:\n%s", report)
	}
	t.Log(report)
}

// requireNode finds node and checks its version, failing the test with
// what to install otherwise.
func requireNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if node, err = exec.LookPath("nodejs"); err != nil {
			t.Fatalf("Node.js %d or later is needed to test the mini-program package (miniprogram/), and there is no node on PATH: install it, e.g. apt-get install nodejs (.ci/run does)", minNodeMajor)
		}
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", node, err)
	}
	version := strings.TrimSpace(string(out))
	major, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(version, "v"), ".", 2)[0])
	if major < minNodeMajor {
		t.Fatalf("Node.js %s is too old for the mini-program package's tests: %d or later is needed", version, minNodeMajor)
	}
	return node
}

// gatewayEnv is the tests' gateway configuration, as KEY=value lines.
func gatewayEnv(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("test", "support", "gateway-env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vars map[string]string
	if err := json.Unmarshal(raw, &vars); err != nil {
		t.Fatalf("gateway-env.json: %v", err)
	}
	var env []string
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

// gateway is a running local gateway; its output goes to logPath, where
// the Node tests read the SMS codes it prints.
type gateway struct {
	base    string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// startGateway builds the local gateway and starts it on a free port and a
// fresh data folder, with the stand-ins of a newcomer's run and extra
// variables, and stops it (Ctrl-C, as a developer does) when the test ends.
func startGateway(t *testing.T, extra []string) *gateway {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "dev")
	build := exec.Command("go", "build", "-o", bin, "./scripts/dev")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the local gateway: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	g := &gateway{base: "http://" + addr, logPath: filepath.Join(dir, "gateway.log"), exited: make(chan struct{})}
	logFile, err := os.Create(g.logPath)
	if err != nil {
		t.Fatal(err)
	}
	g.cmd = exec.Command(bin, "-addr", addr, "-data", filepath.Join(dir, "data"))
	g.cmd.Dir = ".."
	g.cmd.Env = append(withoutStandInOverrides(os.Environ()), extra...)
	pipe, err := g.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	g.cmd.Stderr = g.cmd.Stdout
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	var once sync.Once
	go func() {
		defer close(g.exited)
		defer logFile.Close()
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			// Line by line, so a reader never sees half a line.
			_, _ = io.WriteString(logFile, sc.Text()+"\n")
			if strings.Contains(sc.Text(), "Ctrl-C stops everything") {
				once.Do(func() { close(ready) })
			}
		}
		_ = g.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = g.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-g.exited:
		case <-time.After(15 * time.Second):
			_ = g.cmd.Process.Kill()
			<-g.exited
		}
	})
	select {
	case <-ready:
	case <-g.exited:
		t.Fatalf("the gateway exited:\n%s", readFile(g.logPath))
	case <-time.After(5 * time.Minute):
		t.Fatalf("the gateway did not start:\n%s", readFile(g.logPath))
	}
	return g
}

// withoutStandInOverrides drops variables that would replace the local
// stand-ins (a real database, WeChat, SMS provider or captcha), so the
// tests run on the gateway's own.
func withoutStandInOverrides(env []string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "MONGODB_URI", "MONGODB_DATABASE", "WECHAT_API_BASE", "SMS_PROVIDER", "JWT_SECRET", "WECHAT_APPID", "WECHAT_SECRET",
			"WECHAT_APPS", "CAPTCHA_MODE", "CAPTCHA_APP_ID", "CAPTCHA_APP_SECRET_KEY", "CAPTCHA_ENDPOINT",
			"TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY":
			continue
		}
		out = append(out, kv)
	}
	return out
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

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	return string(b)
}
