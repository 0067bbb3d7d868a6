package main

import (
	"os"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/wxauth/scf-auth/scripts/internal/localscf"
)

type serverlessFile struct {
	Provider struct {
		Runtime    string `yaml:"runtime"`
		MemorySize int    `yaml:"memorySize"`
		Timeout    int    `yaml:"timeout"`
		VPCConfig  struct {
			VPCID    string `yaml:"vpcId"`
			SubnetID string `yaml:"subnetId"`
		} `yaml:"vpcConfig"`
		Environment struct {
			Variables map[string]string `yaml:"variables"`
		} `yaml:"environment"`
	} `yaml:"provider"`
	Functions map[string]struct {
		Handler     string `yaml:"handler"`
		Runtime     string `yaml:"runtime"`
		Description string `yaml:"description"`
		Package     struct {
			Artifact string `yaml:"artifact"`
		} `yaml:"package"`
		Events []map[string]struct {
			Parameters struct {
				AuthType  string `yaml:"authType"`
				NetConfig struct {
					EnableExtranet bool `yaml:"enableExtranet"`
				} `yaml:"netConfig"`
			} `yaml:"parameters"`
		} `yaml:"events"`
	} `yaml:"functions"`
}

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
	raw, err := os.ReadFile("../../serverless.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f serverlessFile
	if err := yaml.Unmarshal(raw, &f); err != nil {
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
	if f.Provider.Runtime != "Go1" || f.Provider.MemorySize < 64 || f.Provider.Timeout < 1 {
		t.Errorf("provider runtime %q memory %d timeout %d", f.Provider.Runtime, f.Provider.MemorySize, f.Provider.Timeout)
	}
	if f.Provider.VPCConfig.VPCID == "" || f.Provider.VPCConfig.SubnetID == "" {
		t.Error("no VPC settings: TencentDB for MongoDB is reachable only inside a VPC")
	}
	for _, name := range folders {
		fn := f.Functions[name]
		if fn.Handler != "main" || fn.Package.Artifact != "dist/"+name+".zip" {
			t.Errorf("%s: handler %q artifact %q", name, fn.Handler, fn.Package.Artifact)
		}
		if fn.Runtime != "" && fn.Runtime != "Go1" {
			t.Errorf("%s: runtime %q", name, fn.Runtime)
		}
		hasURL := false
		for _, ev := range fn.Events {
			if http, ok := ev["http"]; ok && http.Parameters.AuthType == "NONE" && http.Parameters.NetConfig.EnableExtranet {
				hasURL = true
			}
		}
		if !hasURL {
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
		value, ok := f.Provider.Environment.Variables[v]
		if !ok {
			t.Errorf("variable %s is not passed to the functions", v)
		} else if value != "${env:"+v+"}" {
			t.Errorf("variable %s is %q in serverless.yml: values come from the environment or .env, never the file", v, value)
		}
	}
}
