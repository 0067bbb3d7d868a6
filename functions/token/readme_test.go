package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/token"
)

// readmeKeyCommands are the lines of the README's sh block that makes
// signing keys ("Rotating the signing keys").
func readmeKeyCommands(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	i := strings.Index(text, "\n### Rotating the signing keys\n")
	if i < 0 {
		t.Fatal(`README has no "Rotating the signing keys"`)
	}
	text = text[i:]
	text = text[strings.Index(text, "```sh\n")+len("```sh\n"):]
	return strings.Split(strings.TrimSpace(text[:strings.Index(text, "```")]), "\n")
}

// TestTheREADMEKeyCommandsMakeKeysTheFunctionTakes runs the README's
// openssl and awk lines as a deployer would, and deploys what they print.
func TestTheREADMEKeyCommandsMakeKeysTheFunctionTakes(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed")
	}
	lines := readmeKeyCommands(t)
	if len(lines) != 3 || !strings.HasPrefix(lines[2], "awk ") {
		t.Fatalf("want two openssl lines and the awk line, got %q", lines)
	}
	run := func(dir, line string) string {
		t.Helper()
		cmd := exec.Command("sh", "-c", line)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		return string(out)
	}
	for i, alg := range []token.Alg{token.ES256, token.EdDSA} {
		t.Run(string(alg), func(t *testing.T) {
			dir := t.TempDir()
			run(dir, lines[i])
			oneLine := strings.TrimSpace(run(dir, lines[2]))
			if strings.Contains(oneLine, "\n") || !strings.Contains(oneLine, `\n`) {
				t.Fatalf("awk printed %q, want one line with \\n for the breaks", oneLine)
			}
			env := functest.New(t)
			asymmetric(env, alg, oneLine)
			_, keys := fetchJWKS(t, tokenFn(env), true)
			if len(keys) != 1 || keys[0].Alg != string(alg) {
				t.Fatalf("published %+v", keys)
			}
			verifyWithJWK(t, env.SignUp(nil).AccessToken, keys[0])
		})
	}
}
