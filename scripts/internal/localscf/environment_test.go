package localscf_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wxauth/scf-auth/pkg/mongotest"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/scripts/internal/localscf"
)

// TestEnvironmentSetsUpIndexesOnAGivenDatabase: whoever runs the local
// gateway against their own MONGODB_URI gets the indexes a deployment's
// migration sets up, without running it by hand.
func TestEnvironmentSetsUpIndexesOnAGivenDatabase(t *testing.T) {
	uri, db := mongotest.Database(t)
	vars := map[string]string{"MONGODB_URI": uri, "MONGODB_DATABASE": db, "WECHAT_API_BASE": "http://127.0.0.1:1"}
	env, err := localscf.NewEnvironment(t.TempDir(), func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	if _, set := env.Vars["MONGODB_URI"]; set {
		t.Fatal("replaced the given MONGODB_URI")
	}
	if !strings.Contains(strings.Join(env.Notes, "\n"), "indexes: ") {
		t.Fatalf("no index report in %v", env.Notes)
	}
	st, err := store.Connect(uri, db, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(context.Background())
	results, err := st.EnsureIndexes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Outcome == store.IndexCreated {
			t.Fatalf("index %s.%s was missing after the environment was prepared", r.Collection, r.Name)
		}
	}
}

// TestCaptchaStandIn: with CAPTCHA_MODE set and no captcha keys, the
// local gateway runs a stand-in of the captcha API that takes the
// development ticket.
func TestCaptchaStandIn(t *testing.T) {
	uri, db := mongotest.Database(t)
	vars := map[string]string{"MONGODB_URI": uri, "MONGODB_DATABASE": db, "WECHAT_API_BASE": "http://127.0.0.1:1", "CAPTCHA_MODE": "adaptive"}
	env, err := localscf.NewEnvironment(t.TempDir(), func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	if env.CaptchaTicket != "dev-ok" || env.Vars["CAPTCHA_ENDPOINT"] == "" || env.Vars["CAPTCHA_APP_ID"] == "" {
		t.Fatalf("no captcha stand-in: %v", env.Vars)
	}
	vars["CAPTCHA_APP_ID"], vars["CAPTCHA_APP_SECRET_KEY"] = "1", "k"
	real, err := localscf.NewEnvironment(t.TempDir(), func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	defer real.Close()
	if real.CaptchaTicket != "" || real.Vars["CAPTCHA_ENDPOINT"] != "" {
		t.Fatal("a stand-in replaced the configured captcha application")
	}
}
