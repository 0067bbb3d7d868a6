package main

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The deploy CLI (@serverless/components) reads .env with the npm package
// dotenv, range ^8.2.0, so 8.x: lib/main.js of dotenv v8.6.0, ported here
// line by line. parseDotenv8 is what the CLI puts in process.env.
var (
	dotenv8Newlines = regexp.MustCompile(`\n|\r|\r\n`)
	dotenv8KeyVal   = regexp.MustCompile(`^\s*([\w.-]+)\s*=\s*(.*)?\s*$`)
)

func parseDotenv8(src string) map[string]string {
	out := map[string]string{}
	for _, line := range dotenv8Newlines.Split(src, -1) {
		m := dotenv8KeyVal.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		val := m[2]
		end := len(val) - 1
		double := len(val) > 0 && val[0] == '"' && val[end] == '"'
		single := len(val) > 0 && val[0] == '\'' && val[end] == '\''
		if (single || double) && end > 0 {
			val = val[1:end]
			if double {
				val = strings.ReplaceAll(val, `\n`, "\n")
			}
		} else {
			val = strings.TrimSpace(val)
		}
		out[m[1]] = val
	}
	return out
}

// parseDotenvCurrent is dotenv's parser as of v17 (its LINE expression and
// quote rules), which knows comments after a value. The README's example
// must mean the same to both, so that it stays right if the CLI upgrades.
var dotenvCurrentLine = regexp.MustCompile("(?m)(?:^|^)\\s*(?:export\\s+)?([\\w.-]+)(?:\\s*=\\s*?|:\\s+?)(\\s*'(?:\\\\'|[^'])*'|\\s*\"(?:\\\\\"|[^\"])*\"|\\s*`(?:\\\\`|[^`])*`|[^#\\r\\n]+)?\\s*(?:#.*)?(?:$|$)")

func parseDotenvCurrent(src string) map[string]string {
	out := map[string]string{}
	src = regexp.MustCompile(`\r\n?`).ReplaceAllString(src, "\n")
	for _, m := range dotenvCurrentLine.FindAllStringSubmatch(src, -1) {
		val := strings.TrimSpace(m[2])
		quote := byte(0)
		if len(val) >= 2 && strings.IndexByte("'\"`", val[0]) >= 0 && val[len(val)-1] == val[0] {
			quote, val = val[0], val[1:len(val)-1]
		}
		if quote == '"' {
			val = strings.ReplaceAll(strings.ReplaceAll(val, `\n`, "\n"), `\r`, "\r")
		}
		out[m[1]] = val
	}
	return out
}

// readmeDotEnv is the README's .env example as the CLI reads it.
func readmeDotEnv(t *testing.T) map[string]string {
	t.Helper()
	return parseDotenv8(readmeDotEnvBlock(t))
}

// readmeDotEnvBlock is the text of the README's .env example, as a
// deployer copies it (without the list item's indentation).
func readmeDotEnvBlock(t *testing.T) string {
	t.Helper()
	deploy := readmeSection(t, "## Deploy")
	start := strings.Index(deploy, "```sh\n   STAGE=")
	if start < 0 {
		t.Fatal("the Deploy section has no .env block starting with STAGE=")
	}
	block := deploy[start+len("```sh\n"):]
	block = block[:strings.Index(block, "```")]
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(block, " \n"), "\n") {
		lines = append(lines, strings.TrimPrefix(l, "   "))
	}
	return strings.Join(lines, "\n") + "\n"
}

// TestREADMEDotEnvParsesToTheIntendedValues: every value of the README's
// .env example is what it says, under the CLI's dotenv and the current
// one, and none holds a comment.
func TestREADMEDotEnvParsesToTheIntendedValues(t *testing.T) {
	want := map[string]string{
		"STAGE":               "prod",
		"TENCENTCLOUD_REGION": "ap-guangzhou",
		"VPC_ID":              "vpc-xxxxxxxx",
		"SUBNET_ID":           "subnet-xxxxxxxx",
		"SCF_ROLE":            "scf-auth-sms",
		"MONGODB_URI":         "mongodb://auth:…@10.0.0.12:27017/?authSource=admin",
		"JWT_SECRET":          "…",
		"WECHAT_APPID":        "wx…",
		"WECHAT_SECRET":       "…",
		"SMS_SDK_APP_ID":      "1400…",
		"SMS_SIGN_NAME":       "…",
		"SMS_TEMPLATE_ID":     "…",
		"SMS_TEMPLATE_PARAMS": "code,minutes",
	}
	block := readmeDotEnvBlock(t)
	for name, parse := range map[string]func(string) map[string]string{"dotenv 8 (the CLI's)": parseDotenv8, "dotenv 17": parseDotenvCurrent} {
		if got := parse(block); !reflect.DeepEqual(got, want) {
			t.Errorf("%s reads the README's .env as\n%v\nwant\n%v", name, got, want)
		}
	}
	// The CLI's own warning: a value holding " #" is a comment dotenv kept.
	for k, v := range parseDotenv8(block) {
		if regexp.MustCompile(` #+.*$`).MatchString(v) {
			t.Errorf("%s=%q holds a comment", k, v)
		}
	}
}

// TestTheDotenvPortsReadAsDotenvDoes pins the rules the README states, so
// that the test above can tell a comment kept in a value.
func TestTheDotenvPortsReadAsDotenvDoes(t *testing.T) {
	src := "# a comment\nJWT_SECRET=abc123   # openssl rand -hex 32\n  SPACED = a b  \nSINGLE='x # y'\nDOUBLE=\"l1\\nl2\"\nURI=mongodb://u:p@h:27017/?a=b&c=d\nEMPTY=\nnot a line\n"
	v8 := parseDotenv8(src)
	for k, want := range map[string]string{
		"JWT_SECRET": "abc123   # openssl rand -hex 32", // dotenv 8 keeps it: the bug the README avoids
		"SPACED":     "a b", "SINGLE": "x # y", "DOUBLE": "l1\nl2", "URI": "mongodb://u:p@h:27017/?a=b&c=d", "EMPTY": "",
	} {
		if v8[k] != want {
			t.Errorf("dotenv 8: %s = %q, want %q", k, v8[k], want)
		}
	}
	if len(v8) != 6 {
		t.Errorf("dotenv 8 read %d keys: %v", len(v8), v8)
	}
	current := parseDotenvCurrent(src)
	for k, want := range map[string]string{
		"JWT_SECRET": "abc123", "SPACED": "a b", "SINGLE": "x # y", "DOUBLE": "l1\nl2", "URI": "mongodb://u:p@h:27017/?a=b&c=d",
	} {
		if current[k] != want {
			t.Errorf("dotenv 17: %s = %q, want %q", k, current[k], want)
		}
	}
}
