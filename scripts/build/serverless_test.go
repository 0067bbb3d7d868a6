package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/wxauth/scf-auth/scripts/internal/localscf"
)

// routes are the contract's routes of each function (API.md §1).
var routes = map[string][]string{
	"send-sms":           {"/send-sms"},
	"phone-login":        {"/phone-login"},
	"wx-login":           {"/wx-login"},
	"phone-number-login": {"/phone-number-login"},
	"profile":            {"/profile"},
	"token":              {"/token/refresh", "/token/logout"},
}

// TestServerlessYAMLMatchesFunctions keeps the deployment and the code in
// agreement: every function folder is deployed, with its function URL,
// and nothing is deployed that has no folder.
func TestServerlessYAMLMatchesFunctions(t *testing.T) {
	f, err := ReadDeployment("../../serverless.yml")
	if err != nil {
		t.Fatalf("serverless.yml does not parse: %v", err)
	}
	folders, err := localscf.Functions("../..")
	if err != nil {
		t.Fatal(err)
	}
	var deployed []string
	for name := range f.Functions {
		deployed = append(deployed, name)
	}
	sort.Strings(deployed)
	if strings.Join(deployed, ",") != strings.Join(folders, ",") {
		t.Fatalf("serverless.yml deploys %v, functions/ holds %v", deployed, folders)
	}
	p := settingsOf(t, f)
	if p.Runtime != "Go1" || p.MemorySize < 64 || p.Timeout < 1 {
		t.Errorf("provider runtime %q memory %d timeout %d", p.Runtime, p.MemorySize, p.Timeout)
	}
	if p.VPCConfig["vpcId"] == "" || p.VPCConfig["subnetId"] == "" {
		t.Error("no VPC settings: TencentDB for MongoDB is reachable only inside a VPC")
	}
	for _, name := range folders {
		fn := f.Functions[name]
		if fn.Handler != "main" || fn.Package.Artifact != "dist/"+name+".zip" {
			t.Errorf("%s: handler %q artifact %q", name, fn.Handler, fn.Package.Artifact)
		}
		if !hasPublicURL(fn.Events) {
			t.Errorf("%s: no public function URL trigger (events: - http)", name)
		}
		want, ok := routes[name]
		if !ok {
			t.Errorf("%s: a function the contract does not know", name)
		}
		for _, r := range want {
			if !strings.Contains(fn.Description, r) {
				t.Errorf("%s: description %q does not name route %s", name, fn.Description, r)
			}
		}
	}
	for _, v := range []string{"MONGODB_URI", "JWT_SECRET", "WECHAT_APPID", "WECHAT_SECRET", "SMS_SDK_APP_ID", "SMS_COOLDOWN", "SMS_IP_HOURLY_LIMIT"} {
		value, ok := p.Environment.Variables[v]
		if !ok {
			t.Errorf("variable %s is not passed to the functions", v)
		} else if value != "${env:"+v+"}" {
			t.Errorf("variable %s is %q in serverless.yml: values come from the environment or .env, never the file", v, value)
		}
	}
}

// settings are the provider's settings the tests look at.
type settings struct {
	Runtime     string            `yaml:"runtime"`
	MemorySize  int               `yaml:"memorySize"`
	Timeout     int               `yaml:"timeout"`
	VPCConfig   map[string]string `yaml:"vpcConfig"`
	Environment struct {
		Variables map[string]string `yaml:"variables"`
	} `yaml:"environment"`
}

func settingsOf(t *testing.T, d *Deployment) settings {
	t.Helper()
	raw, err := yaml.Marshal(d.Provider)
	if err != nil {
		t.Fatal(err)
	}
	var s settings
	if err := yaml.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// hasPublicURL reports whether events hold a function URL trigger open to
// the internet without a CAM signature.
func hasPublicURL(events []map[string]any) bool {
	for _, ev := range events {
		http, _ := ev["http"].(map[string]any)
		params, _ := http["parameters"].(map[string]any)
		net, _ := params["netConfig"].(map[string]any)
		if params["authType"] == "NONE" && net["enableExtranet"] == true {
			return true
		}
	}
	return false
}

// writeInstances writes the deploy folder of every function into a
// temporary dist/, as the build does, and returns it with the deployment
// and the functions it was written from.
func writeInstances(t *testing.T) (d *Deployment, folders []string, out string) {
	t.Helper()
	d, err := ReadDeployment("../../serverless.yml")
	if err != nil {
		t.Fatal(err)
	}
	if folders, err = localscf.Functions("../.."); err != nil {
		t.Fatal(err)
	}
	out = t.TempDir()
	for _, name := range folders {
		dir := filepath.Join(out, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := d.WriteInstance(dir, name); err != nil {
			t.Fatal(err)
		}
	}
	return d, folders, out
}

// TestInstancesDeployEveryFunction checks what components deploy reads: for every
// function, an scf component instance with the settings of serverless.yml,
// deploying the binary main beside it, behind its function URL.
func TestInstancesDeployEveryFunction(t *testing.T) {
	d, folders, out := writeInstances(t)
	for _, name := range folders {
		raw, err := os.ReadFile(filepath.Join(out, name, "serverless.yml"))
		if err != nil {
			t.Fatal(err)
		}
		var in struct {
			App, Stage, Component, Name string
			Inputs                      struct {
				Src struct {
					Src     string
					Exclude []string
				}
				Handler, Runtime, Region, Role string
				MemorySize                     int               `yaml:"memorySize"`
				VPCConfig                      map[string]string `yaml:"vpcConfig"`
				Environment                    struct{ Variables map[string]string }
				Events                         []map[string]any
			}
		}
		if err := yaml.Unmarshal(raw, &in); err != nil {
			t.Fatalf("%s: instance does not parse: %v", name, err)
		}
		if in.Component != "scf" || in.Name != name || in.App != d.App || in.Stage != d.Stage {
			t.Errorf("%s: component %q name %q app %q stage %q", name, in.Component, in.Name, in.App, in.Stage)
		}
		i := in.Inputs
		if i.Src.Src != "./" || i.Handler != "main" || i.Runtime != "Go1" || i.MemorySize != settingsOf(t, d).MemorySize {
			t.Errorf("%s: src %q handler %q runtime %q memory %d", name, i.Src.Src, i.Handler, i.Runtime, i.MemorySize)
		}
		if i.Region != "${env:TENCENTCLOUD_REGION}" || i.Role != "${env:SCF_ROLE}" || i.VPCConfig["vpcId"] != "${env:VPC_ID}" {
			t.Errorf("%s: region %q role %q vpc %v", name, i.Region, i.Role, i.VPCConfig)
		}
		if len(i.Environment.Variables) != len(settingsOf(t, d).Environment.Variables) ||
			i.Environment.Variables["JWT_SECRET"] != "${env:JWT_SECRET}" {
			t.Errorf("%s: environment %v", name, i.Environment.Variables)
		}
		if !hasPublicURL(i.Events) {
			t.Errorf("%s: no public function URL trigger in %v", name, i.Events)
		}
	}
	if err := d.WriteInstance(out, "no-such-function"); err == nil {
		t.Error("an instance was written for a function serverless.yml does not have")
	}
}

// TestDistDeploysWhole checks dist/ against the rules by which the
// Serverless Components CLI (@serverless/components, China mode) deploys a
// folder of instances at once: the folder itself has no deployable
// serverless.yml, every subfolder's names its component and instance, and
// all share one app and one stage.
func TestDistDeploysWhole(t *testing.T) {
	_, _, out := writeInstances(t)
	if _, err := os.Stat(filepath.Join(out, "serverless.yml")); err == nil {
		t.Fatal("dist/ itself holds a serverless.yml: the CLI would deploy it alone")
	}
	apps, stages := map[string]bool{}, map[string]bool{}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(out, e.Name(), "serverless.yml"))
		if err != nil {
			t.Fatal(err)
		}
		var in struct{ App, Stage, Component, Name string }
		if err := yaml.Unmarshal(raw, &in); err != nil {
			t.Fatal(err)
		}
		if in.Component == "" || in.Name == "" {
			t.Errorf("%s: component %q name %q: the CLI refuses an instance without both", e.Name(), in.Component, in.Name)
		}
		apps[in.App], stages[in.Stage] = true, true
	}
	if len(apps) != 1 || len(stages) != 1 {
		t.Fatalf("apps %v, stages %v: the CLI deploys a folder whole only with one of each", apps, stages)
	}
}
