package authn_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// readmeSection is the README's section "Using the login from your own
// functions", up to the next section of its level.
func readmeSection(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	start := strings.Index(text, "\n## Using the login from your own functions\n")
	if start < 0 {
		t.Fatal(`README has no section "Using the login from your own functions"`)
	}
	text = text[start+1:]
	if end := strings.Index(text[3:], "\n## "); end >= 0 {
		text = text[:end+3]
	}
	return text
}

// goBlocks are the section's ```go blocks.
func goBlocks(t *testing.T) []string {
	t.Helper()
	var blocks []string
	text := readmeSection(t)
	for {
		start := strings.Index(text, "```go\n")
		if start < 0 {
			return blocks
		}
		text = text[start+len("```go\n"):]
		end := strings.Index(text, "```")
		blocks = append(blocks, text[:end])
		text = text[end:]
	}
}

// goCommand is the go command running these tests.
func goCommand(t *testing.T) string {
	t.Helper()
	if path, err := exec.LookPath("go"); err == nil {
		return path
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// TestTheREADMEFunctionBuilds builds the README's Go function as a team
// would: its own module, requiring this one, for the platform, stripped,
// as scripts/build builds the login's functions. It also compiles the
// session-checking lines the README shows after it, and reports the size.
func TestTheREADMEFunctionBuilds(t *testing.T) {
	blocks := goBlocks(t)
	if len(blocks) != 2 || !strings.HasPrefix(blocks[0], "package main\n") {
		t.Fatalf("want the function and the session lines, got %d blocks", len(blocks))
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	session := `package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/wxauth/scf-auth/pkg/authn"
	"github.com/wxauth/scf-auth/pkg/authn/authnstore"
	"github.com/wxauth/scf-auth/pkg/store"
)

// init makes the lines reachable, so that the linker keeps what they use.
func init() {
	if os.Getenv("README_SESSION_LINES") == "run" {
		sessionLines(context.Background(), nil)
	}
}

func sessionLines(ctx context.Context, event json.RawMessage) {
` + blocks[1] + `	_, _ = caller, err
}
`
	files := map[string]string{
		"go.mod": "module example.com/orders\n\ngo 1.25.0\n\nrequire github.com/wxauth/scf-auth v0.0.0\n\nreplace github.com/wxauth/scf-auth => " + root + "\n",
		"go.sum": string(sum), "main.go": blocks[0],
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	build := func(out string) {
		t.Helper()
		cmd := exec.Command(goCommand(t), "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", out, ".")
		cmd.Dir = dir
		// Everything comes from the module cache this module's build
		// filled: nothing is fetched.
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build of the README's function: %v\n%s", err, msg)
		}
	}
	build(filepath.Join(dir, "signature-only"))
	if err := os.WriteFile(filepath.Join(dir, "session.go"), []byte(session), 0o644); err != nil {
		t.Fatal(err)
	}
	build(filepath.Join(dir, "with-sessions"))
	for _, name := range []string{"signature-only", "with-sessions"} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("the README's function, %s: %.1f MB (linux/amd64, stripped)", name, float64(info.Size())/1e6)
	}
}

// TestWhatAFunctionLinks: package authn brings neither the SMS and captcha
// SDKs nor the embedded database into a function, nor, unless it uses
// authnstore, the MongoDB driver.
func TestWhatAFunctionLinks(t *testing.T) {
	for pkg, forbidden := range map[string][]string{
		"github.com/wxauth/scf-auth/pkg/authn": {
			"github.com/tencentcloud/", "github.com/FerretDB/", "modernc.org/", "go.mongodb.org/",
			"/pkg/embeddeddb", "/pkg/sms", "/pkg/captcha", "/pkg/wechat", "/pkg/store", "/pkg/config",
		},
		"github.com/wxauth/scf-auth/pkg/authn/authnstore": {
			"github.com/tencentcloud/", "github.com/FerretDB/", "modernc.org/", "/pkg/embeddeddb",
			"/pkg/sms", "/pkg/captcha", "/pkg/wechat", "/pkg/mongotest", "/pkg/functest",
		},
	} {
		out, err := exec.Command(goCommand(t), "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if strings.Contains(dep, f) {
					t.Errorf("%s links %s", pkg, dep)
				}
			}
		}
	}
}
