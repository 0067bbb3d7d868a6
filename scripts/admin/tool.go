package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wxauth/scf-auth/pkg/app"
	"github.com/wxauth/scf-auth/pkg/config"
	"github.com/wxauth/scf-auth/pkg/smscode"
	"github.com/wxauth/scf-auth/pkg/store"
)

// tool is what every command works with: the store, the SMS keys when
// JWT_SECRET is set, and the operator's terminal.
type tool struct {
	store *store.Store
	// appID is WECHAT_APPID, the app of an -openid that names none.
	appID string
	// keys derive the _id of a phone's SMS state; nil without JWT_SECRET.
	keys   *smscode.Keys
	now    func() time.Time
	in     *prompt
	out    io.Writer
	errOut io.Writer
}

// command is one command of the tool.
type command struct {
	// changes says the command changes the account: it asks for
	// confirmation unless -yes is given.
	changes bool
	// audited says the command writes an audit entry, so -by is required.
	audited bool
	run     func(context.Context, *tool, *invocation) error
}

var commands = map[string]command{
	"show":    {run: show},
	"audit":   {run: auditTrail},
	"export":  {audited: true, run: export},
	"disable": {changes: true, audited: true, run: setDisabled(true)},
	"enable":  {changes: true, audited: true, run: setDisabled(false)},
	"logout":  {changes: true, audited: true, run: logout},
	"delete":  {changes: true, audited: true, run: deleteAccount},
}

// invocation is a command's flags: the account it names, the operator, and
// whether to skip the confirmation.
type invocation struct {
	name     string
	by       string
	yes      bool
	selector selector
}

// selector names an account by one of its identities, or by its id.
type selector struct {
	kind, value string
}

func parse(name string, args []string, cmd command, stderr io.Writer) (*invocation, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	inv := &invocation{name: name}
	values := map[string]*string{}
	for _, kind := range []string{"phone", "openid", "unionid", "id"} {
		values[kind] = fs.String(kind, "", "find the account by its "+kind)
	}
	if cmd.audited {
		fs.StringVar(&inv.by, "by", "", "the operator, named in the audit trail")
	}
	if cmd.changes {
		fs.BoolVar(&inv.yes, "yes", false, "do not ask for confirmation")
	}
	if err := fs.Parse(args); err != nil {
		return nil, errors.New("see go run ./scripts/admin help")
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected %q: flags come after the command (%s -phone 13800138000)", fs.Arg(0), name)
	}
	for kind, v := range values {
		if *v == "" {
			continue
		}
		if inv.selector.kind != "" {
			return nil, errors.New("name the account once: one of -phone, -openid, -unionid, -id")
		}
		inv.selector = selector{kind: kind, value: strings.TrimSpace(*v)}
	}
	switch {
	case inv.selector.kind == "":
		return nil, errors.New("name the account: -phone, -openid, -unionid or -id")
	case cmd.audited && strings.TrimSpace(inv.by) == "":
		return nil, fmt.Errorf("%s needs -by <your name>: it goes into the audit trail", name)
	}
	inv.by = strings.TrimSpace(inv.by)
	return inv, nil
}

// connect opens the store the environment names and checks that it
// answers.
func connect(ctx context.Context, getenv func(string) string) (*tool, error) {
	uri, database := getenv("MONGODB_URI"), getenv("MONGODB_DATABASE")
	if uri == "" {
		return nil, errors.New("set MONGODB_URI (and MONGODB_DATABASE, default auth)")
	}
	if database == "" {
		database = "auth"
	}
	retention := config.DefaultAuditRetention
	if raw := strings.TrimSpace(getenv("AUDIT_RETENTION")); raw != "" {
		d, err := time.ParseDuration(raw)
		if err != nil || d < time.Hour {
			return nil, errors.New("AUDIT_RETENTION must be a Go duration of at least 1h, such as 4320h")
		}
		retention = d
	}
	s, err := store.Connect(uri, database, "scf-auth/admin", store.KeepAuditFor(retention))
	var weak *store.WeakURIError
	if errors.As(err, &weak) {
		return nil, fmt.Errorf("MONGODB_URI %v", weak)
	}
	if err != nil {
		return nil, errors.New("MONGODB_URI is not a valid connection string")
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.Ping(pingCtx); err != nil {
		_ = s.Close(context.Background())
		return nil, fmt.Errorf("cannot reach the database (TencentDB for MongoDB answers only inside its VPC): %w", err)
	}
	t := &tool{store: s, appID: strings.TrimSpace(getenv("WECHAT_APPID")), now: time.Now}
	if secret := strings.TrimSpace(getenv("JWT_SECRET")); secret != "" {
		keys := app.SMSKeys(&config.Config{JWTSecret: []byte(secret)})
		t.keys = &keys
	}
	return t, nil
}

func (t *tool) close() { _ = t.store.Close(context.Background()) }

// operatorClient is the client operators' changes are recorded from.
const operatorClient = "operator"

// asOperator is ctx carrying the operator's origin, which the store
// stamps on the events and audit entries it writes.
func asOperator(ctx context.Context, inv *invocation) context.Context {
	return store.WithOrigin(ctx, store.Origin{Client: operatorClient, Operator: inv.by})
}

// prompt reads the operator's answers.
type prompt struct{ r *bufio.Reader }

func newPrompt(r io.Reader) *prompt { return &prompt{r: bufio.NewReader(r)} }

// confirm asks question and reports whether the operator typed yes. With
// -yes it does not ask.
func (t *tool) confirm(inv *invocation, question string) bool {
	if inv.yes {
		return true
	}
	fmt.Fprintf(t.out, "%s\nType yes to go on: ", question)
	line, _ := t.in.r.ReadString('\n')
	if strings.TrimSpace(line) == "yes" {
		return true
	}
	fmt.Fprintln(t.out, "Nothing changed.")
	return false
}

// errAborted means the operator did not confirm.
var errAborted = errors.New("not confirmed: nothing changed")
