package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"gopkg.in/yaml.v3"
)

// Deployment is serverless.yml: the one description of what is deployed,
// every function with its trigger and the settings they share.
type Deployment struct {
	Service     string         `yaml:"service"`
	App         string         `yaml:"app"`
	Stage       string         `yaml:"stage"`
	FunctionURL map[string]any `yaml:"x-function-url"`
	// Provider holds the settings every function shares: name (tencent),
	// and inputs of the scf component, which every function's instance
	// gets as they are.
	Provider  map[string]any      `yaml:"provider"`
	Functions map[string]Function `yaml:"functions"`
}

// Function is one function's entry.
type Function struct {
	Handler     string `yaml:"handler"`
	Description string `yaml:"description"`
	Package     struct {
		Artifact string `yaml:"artifact"`
	} `yaml:"package"`
	Events []map[string]any `yaml:"events"`
}

// providerName is the one provider key that is not an input.
const providerName = "name"

// ReadDeployment reads serverless.yml. A key this program does not know,
// or a shared setting the scf component does not take, is an error rather
// than something silently left out of the deployment.
func ReadDeployment(path string) (*Deployment, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var d Deployment
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if d.Provider[providerName] != "tencent" {
		return nil, fmt.Errorf("%s: provider.name must be tencent", path)
	}
	for _, k := range d.SharedInputs() {
		if err := checkInput(k, d.Provider[k]); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return &d, nil
}

// SharedInputs are the names of the inputs every function shares, sorted.
func (d *Deployment) SharedInputs() []string {
	var names []string
	for k := range d.Provider {
		if k != providerName {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

// instance is one function as an instance of the scf component: the
// format the Serverless Components CLI (`components deploy`) reads, one
// function per file.
type instance struct {
	App       string         `yaml:"app"`
	Stage     string         `yaml:"stage"`
	Component string         `yaml:"component"`
	Name      string         `yaml:"name"`
	Inputs    map[string]any `yaml:"inputs"`
}

const instanceHeader = `# Written by "go run ./scripts/build" from serverless.yml: edit that file.
# Deploy every function at once from the folder above: cd dist && components deploy
`

// WriteInstance writes dir/serverless.yml, the instance that deploys
// function name from dir, which holds its binary main: every shared
// setting as serverless.yml has it, and the function's own.
func (d *Deployment) WriteInstance(dir, name string) error {
	fn, ok := d.Functions[name]
	if !ok {
		return fmt.Errorf("serverless.yml has no function %q", name)
	}
	inputs := map[string]any{}
	for _, k := range d.SharedInputs() {
		inputs[k] = d.Provider[k]
	}
	inputs["src"] = map[string]any{"src": "./", "exclude": []string{"serverless.yml"}}
	inputs["handler"] = fn.Handler
	inputs["description"] = fn.Description
	inputs["events"] = fn.Events
	in := instance{App: d.App, Stage: d.Stage, Component: "scf", Name: name, Inputs: inputs}

	var buf bytes.Buffer
	buf.WriteString(instanceHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(in); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "serverless.yml"), buf.Bytes(), 0o644)
}
