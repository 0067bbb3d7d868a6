package main

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestSharedSettingsReachEveryInstance: every setting under provider is
// written into every function's instance as it is, with its YAML type
// (eip and publicAccess booleans, not strings).
func TestSharedSettingsReachEveryInstance(t *testing.T) {
	d, folders, out := writeInstances(t)
	shared := d.SharedInputs()
	for _, must := range []string{"eip", "publicAccess", "role", "vpcConfig", "region", "runtime", "memorySize", "timeout", "initTimeout", "environment"} {
		if _, ok := d.Provider[must]; !ok {
			t.Errorf("serverless.yml sets no provider.%s", must)
		}
	}
	for _, name := range folders {
		raw, err := os.ReadFile(filepath.Join(out, name, "serverless.yml"))
		if err != nil {
			t.Fatal(err)
		}
		var in struct {
			Inputs map[string]any `yaml:"inputs"`
		}
		if err := yaml.Unmarshal(raw, &in); err != nil {
			t.Fatal(err)
		}
		for _, k := range shared {
			if !reflect.DeepEqual(in.Inputs[k], d.Provider[k]) {
				t.Errorf("%s: inputs.%s is %#v, serverless.yml has %#v", name, k, in.Inputs[k], d.Provider[k])
			}
		}
		for _, k := range []string{"eip", "publicAccess"} {
			if _, isBool := in.Inputs[k].(bool); !isBool {
				t.Errorf("%s: inputs.%s is %#v, not a boolean", name, k, in.Inputs[k])
			}
		}
		for k := range in.Inputs {
			if _, documented := componentInputs[k]; !documented {
				t.Errorf("%s: inputs.%s is not an input of the scf component", name, k)
			}
		}
	}
}

// TestTheBuildRefusesWhatTheComponentWouldDrop: a misspelt or misplaced
// setting, or a boolean the component would misread, stops the build
// with a message naming it.
func TestTheBuildRefusesWhatTheComponentWouldDrop(t *testing.T) {
	original, err := os.ReadFile("../../serverless.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, from, to, want string
	}{
		{"a misspelt input", "  eip: false\n", "  eips: false\n", "provider.eips is not an input"},
		{"a boolean from the environment", "  eip: false\n", "  eip: ${env:SCF_EIP}\n", "provider.eip must be true or false"},
		{"a boolean in quotes", "  publicAccess: true\n", "  publicAccess: \"true\"\n", "provider.publicAccess must be true or false"},
		{"a per-function input shared", "  runtime: Go1\n", "  runtime: Go1\n  handler: main\n", "provider.handler is set per function"},
		{"a number of the wrong type", "  memorySize: 64\n", "  memorySize: [64]\n", "provider.memorySize has a value of the wrong type"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(string(original), tt.from) {
				t.Fatalf("serverless.yml has no %q", tt.from)
			}
			path := filepath.Join(t.TempDir(), "serverless.yml")
			if err := os.WriteFile(path, []byte(strings.Replace(string(original), tt.from, tt.to, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadDeployment(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
	// A number may come from the environment: the component takes it as a number.
	path := filepath.Join(t.TempDir(), "serverless.yml")
	if err := os.WriteFile(path, []byte(strings.Replace(string(original), "  timeout: 10\n", "  timeout: ${env:SCF_TIMEOUT}\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadDeployment(path); err != nil {
		t.Fatalf("a number from the environment: %v", err)
	}
}

// readmeSection returns the README's section under heading, up to the
// next heading of the same level.
func readmeSection(t *testing.T, heading string) string {
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
	text = text[i+len(heading)+2:]
	level := heading[:strings.Index(heading, " ")+1]
	if j := strings.Index(text, "\n"+level); j >= 0 {
		text = text[:j]
	}
	return text
}

var (
	backticked = regexp.MustCompile("`([A-Za-z][A-Za-z0-9_]*)(?::[^`]*)?`")
	envRef     = regexp.MustCompile(`\$\{env:([A-Z0-9_]+)\}`)
	tableVar   = regexp.MustCompile("(?m)^\\| `([A-Z0-9_]+)`(?: / `([A-Z0-9_]+)`)*")
)

// TestWhatTheREADMETellsADeployerToSetReachesEveryFunction: every input of
// the scf component the README's Deploy section names (`eip: true`,
// `publicAccess`…) is set in serverless.yml, where the build passes it to
// every function; every variable of the .env example is one serverless.yml
// reads; and every variable of the configuration table reaches the
// functions' environment.
func TestWhatTheREADMETellsADeployerToSetReachesEveryFunction(t *testing.T) {
	d, err := ReadDeployment("../../serverless.yml")
	if err != nil {
		t.Fatal(err)
	}
	deploy := readmeSection(t, "## Deploy")
	named := 0
	for _, m := range backticked.FindAllStringSubmatch(deploy, -1) {
		name := m[1]
		if _, input := componentInputs[name]; !input || functionInputs[name] {
			continue
		}
		named++
		if _, set := d.Provider[name]; !set {
			t.Errorf("the README tells a deployer to set %s, which serverless.yml does not pass to the functions", m[0])
		}
	}
	if named < 2 {
		t.Fatalf("the Deploy section names %d inputs of the component; this test reads it wrong", named)
	}

	yml, err := os.ReadFile("../../serverless.yml")
	if err != nil {
		t.Fatal(err)
	}
	read := map[string]bool{}
	for _, m := range envRef.FindAllStringSubmatch(string(yml), -1) {
		read[m[1]] = true
	}
	for key := range readmeDotEnv(t) {
		if !read[key] {
			t.Errorf("the README's .env sets %s, which serverless.yml never reads", key)
		}
	}

	vars := settingsOf(t, d).Environment.Variables
	for _, line := range tableVar.FindAllString(readmeSection(t, "## Configuration"), -1) {
		for _, m := range regexp.MustCompile("`([A-Z0-9_]+)`").FindAllStringSubmatch(line, -1) {
			if vars[m[1]] != "${env:"+m[1]+"}" {
				t.Errorf("the configuration table lists %s, which serverless.yml does not pass to the functions from the environment", m[1])
			}
		}
	}
}
