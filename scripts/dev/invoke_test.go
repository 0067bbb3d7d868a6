package main

import (
	"strings"
	"testing"

	"github.com/wxauth/scf-auth/scripts/internal/localscf"
)

func TestInvokeFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"invoke"}, "needs a function name"},
		{[]string{"invoke", "-as", "alice", "-context", `{"WX_OPENID":"x"}`, "profile"}, "not both"},
		{[]string{"invoke", "-context", `["WX_OPENID"]`, "profile"}, "JSON object of strings"},
		{[]string{"invoke", "-context", `{"WX_OPENID":1}`, "profile"}, "JSON object of strings"},
		{[]string{"invoke", "-context", `null`, "profile"}, "JSON object of strings"},
	} {
		err := run(tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want an error saying %q", tt.args, err, tt.want)
		}
	}
}

func TestInvocationContextOfASimulatorUser(t *testing.T) {
	got := invocationContext{as: "alice"}.of("wxapp")
	want := localscf.WXCloudContext("wxapp", "dev_alice", "devunion_alice", "127.0.0.1")
	if len(got) != len(want) || got["WX_OPENID"] != "dev_alice" || got["WX_UNIONID"] != "devunion_alice" ||
		got["WX_APPID"] != "wxapp" || got["WX_CONTEXT_KEYS"] != "WX_APPID,WX_OPENID,WX_UNIONID,WX_CLIENTIP" {
		t.Fatalf("got %v", got)
	}
	given := map[string]string{"WX_OPENID": "o"}
	if c := (invocationContext{environment: given}).of("wxapp"); c["WX_OPENID"] != "o" || len(c) != 1 {
		t.Fatalf("a given context is sent as given: %v", c)
	}
	if c := (invocationContext{}).of("wxapp"); c != nil {
		t.Fatalf("no flag sends no context: %v", c)
	}
}
