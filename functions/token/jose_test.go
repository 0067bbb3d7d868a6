package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/token"
	"github.com/wxauth/scf-auth/pkg/token/tokentest"
)

// joseVersion is the release of the jose package the README's Node.js
// snippet is tested with.
const joseVersion = "6.2.18"

// readmeJS is the README's Node.js snippet: the js block of the section
// "Using the login from your own functions".
func readmeJS(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	i := strings.Index(text, "\n## Using the login from your own functions\n")
	if i < 0 {
		t.Fatal(`README has no section "Using the login from your own functions"`)
	}
	text = text[i:]
	start := strings.Index(text, "```js\n")
	if start < 0 {
		t.Fatal("the section has no js block")
	}
	text = text[start+len("```js\n"):]
	return text[:strings.Index(text, "```")]
}

// joseModules is a node_modules folder holding jose, installed once per
// machine with npm into the user's cache. Without node the test is
// skipped; when npm cannot install it, the test fails on CI and is
// skipped elsewhere (a laptop offline).
func joseModules(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the README's Node.js snippet is not run")
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "scf-auth", "jose-"+joseVersion)
	modules := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "jose", "package.json")); err == nil {
		return modules
	}
	unavailable := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	if _, err := exec.LookPath("npm"); err != nil {
		unavailable("npm is not installed: cannot install jose")
	}
	staging, err := os.MkdirTemp(filepath.Dir(dir), "install-") // beside dir, so the rename below stays on one disk
	if err != nil {
		if err = os.MkdirAll(filepath.Dir(dir), 0o755); err == nil {
			staging, err = os.MkdirTemp(filepath.Dir(dir), "install-")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	defer os.RemoveAll(staging)
	if err := os.WriteFile(filepath.Join(staging, "package.json"), []byte(`{"private":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--no-package-lock", "--ignore-scripts", "jose@"+joseVersion)
	cmd.Dir = staging
	if out, err := cmd.CombinedOutput(); err != nil {
		unavailable("npm install jose@%s: %v\n%s", joseVersion, err, out)
	}
	if err := os.Rename(staging, dir); err != nil && !os.IsExist(err) {
		if _, statErr := os.Stat(filepath.Join(modules, "jose")); statErr != nil {
			t.Fatal(err)
		}
	}
	return modules
}

// TestTheREADMENodeSnippetVerifiesWithJose runs the README's Node.js
// snippet with jose against this function's JWK Set, served over HTTP as
// its function URL serves it: the token of a login verifies; forgeries,
// other algorithms and expired tokens are refused; and jose computes the
// same RFC 7638 thumbprints as the kids.
func TestTheREADMENodeSnippetVerifiesWithJose(t *testing.T) {
	modules := joseModules(t)
	snippet := readmeJS(t)
	const placeholder = "https://auth.example.com/token/jwks"
	if !strings.Contains(snippet, placeholder) {
		t.Fatalf("the snippet does not fetch %s", placeholder)
	}
	for _, alg := range []token.Alg{token.ES256, token.EdDSA} {
		t.Run(string(alg), func(t *testing.T) {
			env := functest.New(t)
			first, priv := tokentest.PEM(t, alg)
			second, _ := tokentest.PEM(t, alg)
			asymmetric(env, alg, first, second)
			login := serve(t, tokenFn(env))
			acct := env.SignUp(nil)

			var claims jwt.MapClaims
			tok, _, err := jwt.NewParser().ParseUnverified(acct.AccessToken, &claims)
			if err != nil {
				t.Fatal(err)
			}
			kid := tok.Header["kid"].(string)
			resign := func(method jwt.SigningMethod, key any, kid string, mutate func(jwt.MapClaims)) string {
				c := jwt.MapClaims{}
				for k, v := range claims {
					c[k] = v
				}
				if mutate != nil {
					mutate(c)
				}
				t := jwt.NewWithClaims(method, c)
				if kid != "" {
					t.Header["kid"] = kid
				}
				s, err := t.SignedString(key)
				if err != nil {
					panic(err)
				}
				return s
			}
			_, stranger := tokentest.PEM(t, alg)
			method := map[token.Alg]jwt.SigningMethod{token.ES256: jwt.SigningMethodES256, token.EdDSA: jwt.SigningMethodEdDSA}[alg]
			past := time.Now().Add(-3 * time.Hour)
			tokens := map[string]string{
				"genuine":               acct.AccessToken,
				"an unlisted key":       resign(method, stranger, kid, nil),
				"HS256 with JWT_SECRET": resign(jwt.SigningMethodHS256, []byte(functest.JWTSecret), "", nil),
				"HS256 with the kid":    resign(jwt.SigningMethodHS256, []byte(functest.JWTSecret), kid, nil),
				"alg none":              resign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, nil),
				"an unknown kid":        resign(method, priv, "not-a-kid", nil),
				"expired":               resign(method, priv, kid, func(c jwt.MapClaims) { c["exp"] = past.Unix(); c["iat"] = past.Add(-time.Hour).Unix() }),
				"another issuer":        resign(method, priv, kid, func(c jwt.MapClaims) { c["iss"] = "evil" }),
				"no sid":                resign(method, priv, kid, func(c jwt.MapClaims) { delete(c, "sid") }),
			}
			dir := t.TempDir()
			if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
				t.Fatal(err)
			}
			driver := strings.Replace(snippet, placeholder, login.URL+"/token/jwks", 1) + `
import { calculateJwkThumbprint } from 'jose'

const tokens = JSON.parse(process.argv[2])
const results = {}
for (const [name, token] of Object.entries(tokens)) {
  try {
    results[name] = { caller: await callerOf('Bearer ' + token) }
  } catch (err) {
    results[name] = { error: err.code || err.name }
  }
}
const set = await (await fetch(process.argv[3])).json()
results.thumbprints = await Promise.all(set.keys.map(async (k) => [k.kid, await calculateJwkThumbprint(k, 'sha256')]))
console.log(JSON.stringify(results))
`
			if err := os.WriteFile(filepath.Join(dir, "verify.mjs"), []byte(driver), 0o644); err != nil {
				t.Fatal(err)
			}
			arg, _ := json.Marshal(tokens)
			cmd := exec.Command("node", "verify.mjs", string(arg), login.URL+"/token/jwks")
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("node: %v\n%s", err, out)
			}
			var results map[string]json.RawMessage
			if err := json.Unmarshal(out, &results); err != nil {
				t.Fatalf("node printed %s", out)
			}
			var genuine struct {
				Caller struct{ UserID, SessionID string }
			}
			_ = json.Unmarshal(results["genuine"], &genuine)
			if genuine.Caller.UserID != acct.User.ID.Hex() || genuine.Caller.SessionID == "" {
				t.Fatalf("jose did not verify the login's token: %s", results["genuine"])
			}
			for name := range tokens {
				if name == "genuine" {
					continue
				}
				var r struct{ Error string }
				if err := json.Unmarshal(results[name], &r); err != nil || r.Error == "" {
					t.Errorf("%s: jose accepted it: %s", name, results[name])
				}
			}
			var thumbprints [][2]string
			_ = json.Unmarshal(results["thumbprints"], &thumbprints)
			if len(thumbprints) != 2 {
				t.Fatalf("thumbprints %s", results["thumbprints"])
			}
			for _, p := range thumbprints {
				if p[0] != p[1] {
					t.Errorf("kid %s, but jose computes the thumbprint %s", p[0], p[1])
				}
			}
			t.Logf("jose %s: %s", joseVersion, out)
		})
	}
}
