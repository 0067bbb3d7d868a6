package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// Deployment is serverless.yml: the one description of what is deployed,
// every function with its trigger and the settings they share.
type Deployment struct {
	Service     string              `yaml:"service"`
	App         string              `yaml:"app"`
	Stage       string              `yaml:"stage"`
	FunctionURL map[string]any      `yaml:"x-function-url"`
	Provider    Provider            `yaml:"provider"`
	Functions   map[string]Function `yaml:"functions"`
}

// Provider holds the settings every function shares.
type Provider struct {
	Name        string            `yaml:"name"`
	Region      string            `yaml:"region"`
	Runtime     string            `yaml:"runtime"`
	MemorySize  int               `yaml:"memorySize"`
	Timeout     int               `yaml:"timeout"`
	InitTimeout int               `yaml:"initTimeout"`
	Role        string            `yaml:"role"`
	VPCConfig   map[string]string `yaml:"vpcConfig"`
	Environment struct {
		Variables map[string]string `yaml:"variables"`
	} `yaml:"environment"`
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

// ReadDeployment reads serverless.yml. A key this program does not know
// is an error rather than something silently left out of the deployment.
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
	return &d, nil
}

// instance is one function as an instance of the scf component: the
// format the Serverless Components CLI (`components deploy`) reads, one
// function per file.
type instance struct {
	App       string         `yaml:"app"`
	Stage     string         `yaml:"stage"`
	Component string         `yaml:"component"`
	Name      string         `yaml:"name"`
	Inputs    instanceInputs `yaml:"inputs"`
}

type instanceInputs struct {
	Src struct {
		Src     string   `yaml:"src"`
		Exclude []string `yaml:"exclude"`
	} `yaml:"src"`
	Handler     string            `yaml:"handler"`
	Runtime     string            `yaml:"runtime"`
	Region      string            `yaml:"region"`
	Description string            `yaml:"description"`
	MemorySize  int               `yaml:"memorySize"`
	Timeout     int               `yaml:"timeout"`
	InitTimeout int               `yaml:"initTimeout,omitempty"`
	Role        string            `yaml:"role,omitempty"`
	VPCConfig   map[string]string `yaml:"vpcConfig,omitempty"`
	Environment struct {
		Variables map[string]string `yaml:"variables"`
	} `yaml:"environment"`
	Events []map[string]any `yaml:"events"`
}

const instanceHeader = `# Written by "go run ./scripts/build" from serverless.yml: edit that file.
# Deploy every function at once from the folder above: cd dist && components deploy
`

// WriteInstance writes dir/serverless.yml, the instance that deploys
// function name from dir, which holds its binary main.
func (d *Deployment) WriteInstance(dir, name string) error {
	fn, ok := d.Functions[name]
	if !ok {
		return fmt.Errorf("serverless.yml has no function %q", name)
	}
	in := instance{App: d.App, Stage: d.Stage, Component: "scf", Name: name}
	p := d.Provider
	in.Inputs.Src.Src = "./"
	in.Inputs.Src.Exclude = []string{"serverless.yml"}
	in.Inputs.Handler = fn.Handler
	in.Inputs.Runtime = p.Runtime
	in.Inputs.Region = p.Region
	in.Inputs.Description = fn.Description
	in.Inputs.MemorySize = p.MemorySize
	in.Inputs.Timeout = p.Timeout
	in.Inputs.InitTimeout = p.InitTimeout
	in.Inputs.Role = p.Role
	in.Inputs.VPCConfig = p.VPCConfig
	in.Inputs.Environment.Variables = p.Environment.Variables
	in.Inputs.Events = fn.Events

	var buf bytes.Buffer
	buf.WriteString(instanceHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(in); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "serverless.yml"), buf.Bytes(), 0o644)
}
