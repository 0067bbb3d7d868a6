package main

import (
	"strings"
	"testing"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// TestAConnectionStringThatWeakensTheRulesIsRefused shows a deployment whose
// MONGODB_URI reads from secondaries or acknowledges writes on one member
// refused at cold start, the log naming the variable and the option, and
// nothing stored.
func TestAConnectionStringThatWeakensTheRulesIsRefused(t *testing.T) {
	for option, value := range map[string]string{"readPreference": "secondaryPreferred", "w": "1"} {
		t.Run(option, func(t *testing.T) {
			env := functest.New(t)
			uri := env.Vars["MONGODB_URI"]
			env.Vars["MONGODB_URI"] = uri + "?" + option + "=" + value
			env.SeedCode(number, "123456")
			login(phoneLogin(env), number, "123456").Expect(t, 500, "INTERNAL")
			logs := env.Logs.String()
			if !strings.Contains(logs, "MONGODB_URI") || !strings.Contains(logs, option+"="+value) {
				t.Fatalf("log does not name MONGODB_URI and %s=%s: %s", option, value, logs)
			}
			// The code was not spent: the same login works once the URI is fixed.
			env.Vars["MONGODB_URI"] = uri
			login(phoneLogin(env), number, "123456").Expect(t, 200, "OK")
		})
	}
}
