package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/mongotest"
	"github.com/wxauth/scf-auth/pkg/phone"
)

func TestMain(m *testing.M) { mongotest.Main(m) }

// readmeBlock returns the lines of the first ```sh block of the README
// after the heading, so that tests run what the README says.
func readmeBlock(t *testing.T, heading, containing string) []string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	i := strings.Index(text, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README has no %q", heading)
	}
	text = text[i:]
	for {
		start := strings.Index(text, "```sh\n")
		if start < 0 {
			t.Fatalf("README has no sh block holding %q after %q", containing, heading)
		}
		text = text[start+len("```sh\n"):]
		end := strings.Index(text, "```")
		block := text[:end]
		text = text[end+3:]
		if strings.Contains(block, containing) {
			return strings.Split(strings.TrimRight(block, "\n"), "\n")
		}
	}
}

// gateway is a running local gateway and what it printed.
type gateway struct {
	base string
	// dir holds its binary and data folder.
	dir, data string
	cmd       *exec.Cmd
	exited    chan struct{}
	mu        sync.Mutex
	out       []string
}

// waitFor returns the first line the gateway printed that holds marker.
func (g *gateway) waitFor(t *testing.T, marker string) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		for _, l := range g.lines() {
			if strings.Contains(l, marker) {
				return l
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the gateway printed no %q:\n%s", marker, strings.Join(g.lines(), "\n"))
	return ""
}

// interrupt sends Ctrl-C and reports whether the gateway stopped within d.
func (g *gateway) interrupt(d time.Duration) bool {
	_ = g.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-g.exited:
		return true
	case <-time.After(d):
		return false
	}
}

func (g *gateway) lines() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.out...)
}

// startGateway builds and starts the local gateway on a fresh data
// folder, as a newcomer runs it (with extra variables), waits for its
// banner, and stops it when the test ends.
func startGateway(t *testing.T, extra ...string) *gateway {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "dev")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	g := &gateway{base: "http://" + addr, dir: dir, data: filepath.Join(dir, "data"), exited: make(chan struct{})}
	g.cmd = exec.Command(bin, "-addr", addr, "-data", g.data)
	g.cmd.Dir = "../.."
	g.cmd.Env = append(withoutOverrides(os.Environ()), extra...)
	stdout, _ := g.cmd.StdoutPipe()
	g.cmd.Stderr = g.cmd.Stdout
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			g.mu.Lock()
			g.out = append(g.out, sc.Text())
			g.mu.Unlock()
			if strings.Contains(sc.Text(), "Ctrl-C stops everything") {
				close(ready)
			}
		}
		_ = g.cmd.Wait()
		close(g.exited)
	}()
	t.Cleanup(func() {
		if !g.interrupt(15 * time.Second) {
			_ = g.cmd.Process.Kill()
		}
	})
	select {
	case <-ready:
	case <-g.exited:
		t.Fatalf("the gateway exited:\n%s", strings.Join(g.lines(), "\n"))
	case <-time.After(5 * time.Minute):
		t.Fatalf("the gateway did not start:\n%s", strings.Join(g.lines(), "\n"))
	}
	return g
}

var (
	// smsCodeLine is a code the gateway printed, not the banner's example
	// of one (which a line-start anchor leaves out).
	smsCodeLine = regexp.MustCompile(`^\s*>>> SMS code for (\S+): (\d{6}) <<<`)
	expectation = regexp.MustCompile(`\{"code":"([A-Z_]+)"`)
	// shownValue is a member the README shows an answer with, in full (no
	// "…" in it): a string, a boolean, a number or an array of strings.
	shownValue  = regexp.MustCompile(`"(\w+)":("[^"…]*"|true|false|-?\d+|\["[^\]…]*"\]|\[\])`)
	maskedPhone = regexp.MustCompile(`1\d\d\*\*\*\*\d{4}`)
	sentPhone   = regexp.MustCompile(`"phone":"(1\d{10})"`)
)

// TestWalkThroughOfTheREADME runs the README's curl walk-through word for
// word against a fresh gateway: every curl line through sh, each value it
// says to copy copied from the answer (or the terminal) it names, and each
// answer's code checked against the one the README shows after it.
func TestWalkThroughOfTheREADME(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs every function")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl on this machine")
	}
	lines := readmeBlock(t, "## Walk-through", "curl -s $B/send-sms")
	g := startGateway(t)
	vars := map[string]string{}
	var last map[string]any // data of the last answer
	lastPhone := ""
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		name, value, isVar := strings.Cut(line, "=")
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "curl "):
			want, shown := "OK", ""
			for j := i + 1; j < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[j]), "#"); j++ {
				if m := expectation.FindStringSubmatch(lines[j]); m != nil && shown == "" {
					want = m[1]
				}
				shown += lines[j]
			}
			if m := sentPhone.FindStringSubmatch(line); m != nil && strings.Contains(line, "/send-sms") {
				lastPhone = m[1]
			}
			last = runCurl(t, line, vars, want)
			checkShown(t, line, shown, last)
		case isVar && name == "B":
			vars["B"] = g.base // the README's address, where this gateway is
		case isVar && strings.HasPrefix(value, "…"):
			source := strings.TrimSpace(value[strings.Index(value, "#")+1:])
			switch {
			case strings.HasPrefix(source, "data."):
				v, ok := lookup(last, strings.TrimPrefix(source, "data.")).(string)
				if !ok || v == "" {
					t.Fatalf("%s: no %s in the last answer %v", line, source, last)
				}
				vars[name] = v
			case strings.Contains(source, "terminal"):
				masked := phone.Mask(lastPhone)
				if m := maskedPhone.FindString(source); m != "" {
					masked = m
				}
				vars[name] = waitForCode(t, g, masked)
			default:
				t.Fatalf("%s: the README does not say where to copy this from", line)
			}
		case isVar:
			vars[name] = value
		default:
			t.Fatalf("a line of the walk-through this test cannot run: %s", line)
		}
	}
}

// runCurl runs one line through sh with the walk-through's variables, and
// checks the answer's code.
func runCurl(t *testing.T, line string, vars map[string]string, want string) map[string]any {
	t.Helper()
	cmd := exec.Command("sh", "-c", line)
	cmd.Env = os.Environ()
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	var env struct {
		Code string         `json:"code"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(out, &env); err != nil {
		t.Fatalf("%s answered %q", line, out)
	}
	if env.Code != want {
		t.Fatalf("%s answered %s, the README shows %s: %s", line, env.Code, want, out)
	}
	return env.Data
}

// checkShown checks the members the README shows with an answer against
// the answer's data and its user: a walk-through that shows isNewUser
// false, or the apps an account logs in from, is run to show just that.
func checkShown(t *testing.T, line, shown string, data map[string]any) {
	t.Helper()
	for _, m := range shownValue.FindAllStringSubmatch(shown, -1) {
		key, text := m[1], m[2]
		if key == "code" || key == "message" || key == "requestId" {
			continue
		}
		got, ok := data[key]
		if !ok {
			user, _ := data["user"].(map[string]any)
			if got, ok = user[key]; !ok {
				continue // shown inside a list or an object this check does not walk
			}
		}
		var want any
		if err := json.Unmarshal([]byte(text), &want); err != nil {
			t.Fatalf("%s: the README shows %s as %s, which is not JSON", line, key, text)
		}
		if g, _ := json.Marshal(got); string(g) != mustJSON(t, want) {
			t.Fatalf("%s: %s is %s, the README shows %s", line, key, g, text)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func lookup(data map[string]any, path string) any {
	var cur any = data
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// waitForCode returns the last SMS code the gateway printed for a masked
// number.
func waitForCode(t *testing.T, g *gateway, masked string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		lines := g.lines()
		for i := len(lines) - 1; i >= 0; i-- {
			if m := smsCodeLine.FindStringSubmatch(lines[i]); m != nil && m[1] == masked {
				return m[2]
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no SMS code for %s in the gateway's output", masked)
	return ""
}

// TestInvokeExampleOfTheREADME runs the README's one-event examples word
// for word, in order, on a database of their own (through MONGODB_URI):
// each answers OK, the ones with a wx.cloud context as that caller.
func TestInvokeExampleOfTheREADME(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a function")
	}
	var lines []string
	for _, l := range readmeBlock(t, "## Two commands", "go run ./scripts/dev invoke") {
		if strings.Contains(l, "go run ./scripts/dev invoke") {
			lines = append(lines, l)
		}
	}
	if len(lines) < 2 || !strings.Contains(strings.Join(lines, "\n"), " -as ") {
		t.Fatalf("the README shows no invoke with a wx.cloud context: %q", lines)
	}
	uri, db := mongotest.Database(t)
	var user string
	for _, line := range lines {
		cmd := exec.Command("sh", "-c", line)
		cmd.Dir = "../.."
		cmd.Env = append(withoutOverrides(os.Environ()), "MONGODB_URI="+uri, "MONGODB_DATABASE="+db)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		var env struct {
			Code      string `json:"code"`
			RequestID string `json:"requestId"`
			Data      struct {
				User struct {
					ID string `json:"id"`
				} `json:"user"`
			} `json:"data"`
		}
		if err := json.Unmarshal(out, &env); err != nil || env.Code != "OK" || env.RequestID == "" {
			t.Fatalf("%s answered %s", line, out)
		}
		// The lines with a context speak for one caller: one account.
		if id := env.Data.User.ID; id != "" {
			if user != "" && id != user {
				t.Fatalf("%s answered account %s, the line before %s", line, id, user)
			}
			user = id
		}
	}
}
