package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/mongotest"
	"github.com/wxauth/scf-auth/pkg/roundtrip"
	"github.com/wxauth/scf-auth/pkg/session"
	"github.com/wxauth/scf-auth/pkg/store"
)

func TestMain(m *testing.M) { mongotest.Main(m) }

const (
	number = "13800138000"
	openid = "o-admin"
)

// world is a database with one account holding a phone and WeChat, two
// sessions and an SMS code sent, and a bystander.
func world(t *testing.T) (env *functest.Env, acct, bystander *functest.Account) {
	t.Helper()
	env = functest.New(t)
	acct = env.SignUp(func(u *store.User) {
		u.CountryCode, u.Phone, u.Nickname = "86", number, "小明"
		u.WeChat = functest.WeChatOf(openid, "u-admin")
	})
	env.LogInWith(acct.User, session.MethodWeChat, "mini-program "+functest.AppID+" · iOS")
	env.SeedCode(number, "123456")
	bystander = env.SignUp(func(u *store.User) { u.CountryCode, u.Phone = "86", "13900139000" })
	return env, acct, bystander
}

// result is what one run of the tool did.
type result struct {
	code     int
	out, err string
	commands []roundtrip.Command
}

// admin runs the tool as `go run ./scripts/admin args...` would, with the
// test's database in its environment and stdin as the operator's typing.
func admin(t *testing.T, env *functest.Env, stdin string, args ...string) result {
	t.Helper()
	ctx, counter := roundtrip.NewRecordingContext(context.Background())
	var out, errOut bytes.Buffer
	code := run(ctx, args, func(k string) string { return env.Vars[k] }, strings.NewReader(stdin), &out, &errOut)
	return result{code: code, out: out.String(), err: errOut.String(), commands: counter.Commands()}
}

// keyedByID fails the test unless every command named its documents by
// _id: the tool never scans.
func (r result) keyedByID(t *testing.T) result {
	t.Helper()
	for _, c := range r.commands {
		if err := functest.CheckKeyedByID(c); err != nil {
			t.Errorf("a command not keyed by _id: %v", err)
		}
	}
	return r
}

func (r result) expect(t *testing.T, code int, contains ...string) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.out, r.err)
	}
	// Columns are aligned with spaces: compare words, not their padding.
	collapse := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, c := range contains {
		if !strings.Contains(collapse(r.out+r.err), collapse(c)) {
			t.Fatalf("output lacks %q\nstdout:\n%s\nstderr:\n%s", c, r.out, r.err)
		}
	}
	return r
}

func TestFindsAnAccountThroughItsClaims(t *testing.T) {
	env, acct, _ := world(t)
	id := acct.User.ID.Hex()
	for _, by := range [][]string{{"-phone", "+86 138-0013-8000"}, {"-openid", openid}, {"-unionid", "u-admin"}, {"-id", id}} {
		r := admin(t, env, "", append([]string{"show"}, by...)...).expect(t, 0, "account "+id, "+86 "+number, "openid "+openid)
		r.keyedByID(t)
		var reads []string
		for _, c := range r.commands {
			if c.Name != "ping" {
				reads = append(reads, c.Name)
			}
		}
		if len(reads) > 2 {
			t.Errorf("%v: commands %v, want the claim and the account at most", by, reads)
		}
	}
	admin(t, env, "", "show", "-phone", "13700137000").expect(t, 1, "no account holds phone 137****7000")
	admin(t, env, "", "show", "-openid", "o-nobody").expect(t, 1, "no account holds openid o-nobody")
	admin(t, env, "", "show", "-id", bson.NewObjectID().Hex()).expect(t, 1, "no account")
	admin(t, env, "", "show", "-phone", "12345").expect(t, 1, "not a mainland mobile number")
	admin(t, env, "", "show", "-id", "xyz").expect(t, 1, "not an account id")

	// A claim whose account does not hold the identity (a link cut short)
	// is said to be so, not taken for the account's.
	stray := store.NewUser(time.Now())
	if err := env.Store.CreateUser(t.Context(), stray); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.Claim(t.Context(), functest.OpenID("o-stray"), stray.ID, store.NewLease(), time.Now()); err != nil {
		t.Fatal(err)
	}
	admin(t, env, "", "show", "-openid", "o-stray").expect(t, 1, "does not hold it", "-id "+stray.ID.Hex())
}

func TestUsage(t *testing.T) {
	env, _, _ := world(t)
	admin(t, env, "").expect(t, 2, "usage: go run ./scripts/admin <command>")
	admin(t, env, "", "help").expect(t, 0, "commands:")
	admin(t, env, "", "rename", "-phone", number).expect(t, 2, `no command "rename"`)
	admin(t, env, "", "show").expect(t, 2, "name the account")
	admin(t, env, "", "show", "-phone", number, "-openid", openid).expect(t, 2, "name the account once")
	admin(t, env, "", "show", number).expect(t, 2, "flags come after the command")
	admin(t, env, "yes\n", "disable", "-phone", number).expect(t, 2, "disable needs -by")
	admin(t, env, "", "export", "-phone", number).expect(t, 2, "export needs -by")
	admin(t, env, "", "show", "-phone", number, "-yes").expect(t, 2)
	if env.User(env.UserOf(store.PhoneIdentity("86", number)).ID).IsDisabled() {
		t.Fatal("a refused command changed the account")
	}
	bad := functest.New(t)
	bad.Vars["MONGODB_URI"] = "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300"
	admin(t, bad, "", "show", "-phone", number).expect(t, 1, "cannot reach the database")
	bad.Vars["MONGODB_URI"] = ""
	admin(t, bad, "", "show", "-phone", number).expect(t, 1, "set MONGODB_URI")
}

func TestShow(t *testing.T) {
	env, acct, _ := world(t)
	r := admin(t, env, "", "show", "-phone", number).expect(t, 0,
		"status enabled", "nickname 小明", "sessions: 2 live", "mini-program "+functest.AppID+" · iOS", "recent events: 2, newest first")
	lines := strings.Split(r.out, "\n")
	var events []string
	for i, l := range lines {
		if strings.HasPrefix(l, "recent events") {
			events = lines[i+1:]
		}
	}
	if !strings.Contains(events[0], "login") || !strings.Contains(events[0], "wechat") || !strings.Contains(events[1], "signup") {
		t.Fatalf("events not newest first:\n%s", r.out)
	}
	if strings.Contains(r.out, "tokenHash") {
		t.Fatalf("show prints secrets' hashes:\n%s", r.out)
	}
	_ = acct
}

// Every changing command asks first: anything but "yes" changes nothing
// and writes nothing to the audit trail.
func TestChangesAskForConfirmation(t *testing.T) {
	env, acct, _ := world(t)
	for _, cmd := range []string{"disable", "logout", "delete"} {
		for _, answer := range []string{"", "no\n", "y\n", "YES please\n"} {
			admin(t, env, answer, cmd, "-phone", number, "-by", "alice").expect(t, 1, "Type yes to go on", "Nothing changed")
		}
	}
	u := env.User(acct.User.ID)
	if u.IsDisabled() || u.IsDeleted() || len(u.Sessions) != 2 {
		t.Fatalf("changed without confirmation: %+v", u)
	}
	if trail, _ := env.Store.AuditTrail(t.Context(), acct.User.ID); len(trail) != 1 {
		t.Fatalf("audit entries without a change: %+v", trail)
	}
}

func TestDisableAndEnable(t *testing.T) {
	env, acct, bystander := world(t)
	r := admin(t, env, "yes\n", "disable", "-phone", number, "-by", "alice").expect(t, 0, "Disable account "+acct.User.ID.Hex(), "disabled by alice")
	r.keyedByID(t)
	if _, _, err := env.Sessions().Authenticate(t.Context(), acct.AccessToken); apierror.As(err).Code != apierror.AccountDisabled {
		t.Fatalf("a disabled account's token: %v", err)
	}
	if _, _, err := env.Sessions().Authenticate(t.Context(), bystander.AccessToken); err != nil {
		t.Fatalf("the bystander: %v", err)
	}
	admin(t, env, "", "disable", "-phone", number, "-by", "alice").expect(t, 0, "disabled already: nothing changed")
	admin(t, env, "", "show", "-phone", number).expect(t, 0, "status disabled")
	admin(t, env, "", "enable", "-openid", openid, "-by", "bob", "-yes").expect(t, 0, "enabled by bob")
	if _, _, err := env.Sessions().Authenticate(t.Context(), acct.AccessToken); err != nil {
		t.Fatalf("enabled again, its session goes on: %v", err)
	}
	trail := admin(t, env, "", "audit", "-phone", number).expect(t, 0, "3 entries")
	if !strings.Contains(trail.out, "account-disabled") || !strings.Contains(trail.out, "by alice") ||
		!strings.Contains(trail.out, "account-enabled") || !strings.Contains(trail.out, "by bob") {
		t.Fatalf("audit trail:\n%s", trail.out)
	}
}

func TestLogout(t *testing.T) {
	env, acct, bystander := world(t)
	admin(t, env, "yes\n", "logout", "-unionid", "u-admin", "-by", "alice").expect(t, 0, "End the 2 live sessions", "2 sessions of account").keyedByID(t)
	if _, _, err := env.Sessions().Authenticate(t.Context(), acct.AccessToken); apierror.As(err).Code != apierror.Unauthorized {
		t.Fatalf("a token of an ended session: %v", err)
	}
	if _, err := env.Sessions().Refresh(t.Context(), acct.RefreshToken); apierror.As(err).Code != apierror.RefreshTokenInvalid {
		t.Fatalf("a refresh token of an ended session: %v", err)
	}
	if _, _, err := env.Sessions().Authenticate(t.Context(), bystander.AccessToken); err != nil {
		t.Fatalf("the bystander: %v", err)
	}
	// Its owner sees why in their security events.
	if e := env.User(acct.User.ID).RecentEvents()[0]; e.Type != store.EventLogoutAll || e.Client != "operator" {
		t.Fatalf("last event %+v", e)
	}
	admin(t, env, "", "audit", "-id", acct.User.ID.Hex()).expect(t, 0, "logout-all", "by alice")
}

// The operator deletes as DELETE /profile does, a disabled account too.
func TestDelete(t *testing.T) {
	env, acct, bystander := world(t)
	admin(t, env, "yes\n", "disable", "-phone", number, "-by", "alice").expect(t, 0)
	admin(t, env, "yes\n", "delete", "-phone", number, "-by", "alice").expect(t, 0, "Delete account "+acct.User.ID.Hex(), "deleted by alice").keyedByID(t)
	gone := env.User(acct.User.ID)
	if !gone.IsDeleted() || gone.Phone != "" || len(gone.Sessions) != 0 || len(gone.Events) != 0 {
		t.Fatalf("not a tombstone: %+v", gone)
	}
	for _, id := range []store.Identity{store.PhoneIdentity("86", number), functest.OpenID(openid), store.UnionIDIdentity("u-admin")} {
		if env.Holder(id) != nil {
			t.Fatalf("%s still claimed", id)
		}
	}
	if _, _, err := env.Sessions().Authenticate(t.Context(), acct.AccessToken); apierror.As(err).Code != apierror.Unauthorized {
		t.Fatalf("a deleted account's token: %v", err)
	}
	// The SMS records of its phone are abuse records: they stay.
	if env.PhoneSMS(number).Code == nil {
		t.Fatal("the phone's SMS state went with the account")
	}
	if _, _, err := env.Sessions().Authenticate(t.Context(), bystander.AccessToken); err != nil {
		t.Fatalf("the bystander: %v", err)
	}
	admin(t, env, "", "show", "-phone", number).expect(t, 1, "no account holds phone")
	admin(t, env, "", "show", "-id", acct.User.ID.Hex()).expect(t, 0, "status deleted")
	admin(t, env, "yes\n", "delete", "-id", acct.User.ID.Hex(), "-by", "alice").expect(t, 1, "was deleted at")
	admin(t, env, "", "audit", "-id", acct.User.ID.Hex()).expect(t, 0, "account-deleted", "by alice", "phone 138****8000")
}

func TestExport(t *testing.T) {
	env, acct, _ := world(t)
	r := admin(t, env, "", "export", "-phone", number, "-by", "carol").expect(t, 0)
	var out struct {
		ExportedBy string `json:"exportedBy"`
		Account    struct {
			Phone    string `json:"phone"`
			Nickname string `json:"nickname"`
			WeChat   struct {
				OpenIDs map[string]struct {
					OpenID string `json:"openid"`
				} `json:"openids"`
			} `json:"wechat"`
			Sessions map[string]map[string]any `json:"sessions"`
			Events   []map[string]any          `json:"events"`
		} `json:"account"`
		Identities []map[string]any `json:"identities"`
		SMS        map[string]any   `json:"sms"`
		Audit      []struct {
			Type, Operator string
		} `json:"audit"`
		Omitted []string `json:"omitted"`
	}
	if err := json.Unmarshal([]byte(r.out), &out); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.out)
	}
	if out.ExportedBy != "carol" || out.Account.Phone != number || out.Account.Nickname != "小明" || out.Account.WeChat.OpenIDs[functest.AppID].OpenID != openid ||
		len(out.Account.Sessions) != 2 || len(out.Account.Events) != 2 || len(out.Identities) != 3 || out.SMS == nil {
		t.Fatalf("export:\n%s", r.out)
	}
	for _, s := range out.Account.Sessions {
		if s["tokenHash"] != nil || s["method"] == nil {
			t.Fatalf("a session exported as %v", s)
		}
	}
	if code, _ := out.SMS["code"].(map[string]any); code == nil || code["hash"] != nil || code["nonce"] != nil || code["sentAt"] == nil {
		t.Fatalf("the SMS code exported as %v", out.SMS["code"])
	}
	last := out.Audit[len(out.Audit)-1]
	if last.Type != store.EventAccountExported || last.Operator != "carol" {
		t.Fatalf("audit: %+v", out.Audit)
	}

	// Without JWT_SECRET the phone's SMS records cannot be found: said so.
	delete(env.Vars, "JWT_SECRET")
	r = admin(t, env, "", "export", "-id", acct.User.ID.Hex(), "-by", "carol").expect(t, 0, "JWT_SECRET is unset")
	if !strings.Contains(r.out, `"sms": null`) || !strings.Contains(r.out, "set JWT_SECRET") {
		t.Fatalf("export without JWT_SECRET:\n%s", r.out)
	}
}

// The tool as an operator runs it: the built command, its environment,
// answers typed at its prompt, its exit codes.
func TestAsAnOperatorRunsIt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the tool")
	}
	env, acct, _ := world(t)
	bin := filepath.Join(t.TempDir(), "admin")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	runIt := func(stdin string, args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "MONGODB_URI="+env.Vars["MONGODB_URI"], "MONGODB_DATABASE="+env.Vars["MONGODB_DATABASE"], "JWT_SECRET="+env.Vars["JWT_SECRET"])
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	if code, out := runIt(""); code != 2 || !strings.Contains(out, "usage:") {
		t.Fatalf("no arguments: %d\n%s", code, out)
	}
	if code, out := runIt("no\n", "delete", "-phone", number, "-by", "alice"); code != 1 || !strings.Contains(out, "Nothing changed") {
		t.Fatalf("declined: %d\n%s", code, out)
	}
	if code, out := runIt("yes\n", "disable", "-phone", number, "-by", "alice"); code != 0 || !strings.Contains(out, "disabled by alice") {
		t.Fatalf("disable: %d\n%s", code, out)
	}
	if code, out := runIt("", "show", "-phone", number); code != 0 || !strings.Contains(out, "disabled") {
		t.Fatalf("show: %d\n%s", code, out)
	}
	if !env.User(acct.User.ID).IsDisabled() {
		t.Fatal("not disabled")
	}
}
