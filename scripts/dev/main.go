// Command dev runs the whole API locally:
//
//	go run ./scripts/dev [-addr 127.0.0.1:9000] [-data .data]
//	go run ./scripts/dev invoke [-as <name> | -context <json>] <function> < event.json
//
// It builds every function under functions/ and runs each as its own
// process over the SCF Go runtime protocol, behind an HTTP front that turns
// requests into API Gateway events, routing by the first path segment, and
// plays wx.cloud.callFunction below /_wxcloud/. invoke sends one event,
// with an invocation context as the platform passes a wx.cloud caller's. What
// the environment leaves unset is stood in for locally: an embedded
// MongoDB-compatible database under .data/, a WeChat simulator, console SMS
// (codes printed here) and a development JWT key. Ctrl-C stops everything.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wxauth/scf-auth/scripts/internal/localscf"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "dev:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:9000", "address the HTTP front listens on")
	data := fs.String("data", ".data", "folder for the embedded database, binaries and development key")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: go run ./scripts/dev [-addr host:port] [-data dir]\n       go run ./scripts/dev invoke [-as name | -context json] <function> < event.json")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	dataDir := *data
	if !filepath.IsAbs(dataDir) {
		dataDir = filepath.Join(root, dataDir)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if fs.Arg(0) == "invoke" {
		return runInvoke(ctx, root, dataDir, fs.Args()[1:])
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unknown command %q", fs.Arg(0))
	}
	return serve(ctx, root, dataDir, *addr)
}

// serve runs the gateway until ctx ends.
func serve(ctx context.Context, root, dataDir, addr string) error {
	// The address first: a port in use is said at once, not after a build.
	l, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%s is already in use: pick another with -addr, e.g. go run ./scripts/dev -addr 127.0.0.1:9001", addr)
	}
	if err != nil {
		return fmt.Errorf("cannot listen on %s (change it with -addr): %w", addr, err)
	}
	defer l.Close()
	logs := &codeHighlighter{out: os.Stdout}
	names, procs, env, err := start(ctx, root, dataDir, logs, nil)
	if err != nil {
		return err
	}
	defer env.Close()
	defer stopAll(procs)

	gw := &localscf.Gateway{Functions: procs, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)), WeChatAppID: env.WeChatAppID}
	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()

	banner(os.Stdout, "http://"+l.Addr().String(), dataDir, names, procs, env)
	<-ctx.Done()
	fmt.Println("\nstopping…")
	shutdown, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// runInvoke parses invoke's flags and runs it on the event read from stdin.
func runInvoke(ctx context.Context, root, dataDir string, args []string) error {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	as := fs.String("as", "", "call through wx.cloud as the WeChat simulator's user `name`: the context of openid dev_<name>, unionid devunion_<name>, app WECHAT_APPID, address 127.0.0.1")
	contextJSON := fs.String("context", "", "the invocation's context as the platform passes it, a JSON object of strings, e.g. `{\"WX_OPENID\":\"dev_alice\",\"WX_APPID\":\"...\"}`")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: go run ./scripts/dev invoke [-as name | -context json] <function> < event.json")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("invoke needs a function name")
	}
	caller := invocationContext{as: *as}
	if *as != "" && *contextJSON != "" {
		return errors.New("invoke takes -as or -context, not both")
	}
	if *contextJSON != "" {
		if err := json.Unmarshal([]byte(*contextJSON), &caller.environment); err != nil || caller.environment == nil {
			return errors.New(`-context must be a JSON object of strings, such as {"WX_OPENID":"dev_alice","WX_APPID":"` + localscf.DevAppID + `"}`)
		}
	}
	return invoke(ctx, root, dataDir, fs.Arg(0), caller, os.Stdin, os.Stdout)
}

// invocationContext is the context invoke sends: the simulator user as, or
// environment as given; neither sends none.
type invocationContext struct {
	as          string
	environment map[string]string
}

// of is the context for a deployment whose app is appID.
func (c invocationContext) of(appID string) map[string]string {
	if c.as == "" {
		return c.environment
	}
	return localscf.WXCloudContext(appID, "dev_"+c.as, "devunion_"+c.as, "127.0.0.1")
}

// invoke runs one event through one function and prints its answer.
func invoke(ctx context.Context, root, dataDir, name string, caller invocationContext, in io.Reader, out io.Writer) error {
	event, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	_, procs, env, err := start(ctx, root, dataDir, &codeHighlighter{out: os.Stderr}, []string{name})
	if err != nil {
		return err
	}
	defer env.Close()
	defer stopAll(procs)
	answer, err := localscf.InvokeWithContext(ctx, procs[name], event, caller.of(env.WeChatAppID))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, string(answer))
	return err
}

// start prepares the environment, builds the functions and starts them.
func start(ctx context.Context, root, dataDir string, logs io.Writer, only []string) ([]string, map[string]*localscf.Process, *localscf.Environment, error) {
	names, err := localscf.Functions(root)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(only) > 0 {
		for _, n := range only {
			if !slices.Contains(names, n) {
				return nil, nil, nil, fmt.Errorf("no function %q; there are: %s", n, strings.Join(names, ", "))
			}
		}
		names = only
	}
	env, err := localscf.NewEnvironment(dataDir, os.Getenv)
	if err != nil {
		return nil, nil, nil, err
	}
	fmt.Fprintln(os.Stderr, "building", strings.Join(names, ", "), "…")
	binDir := filepath.Join(dataDir, "bin")
	if err := localscf.Build(ctx, root, binDir, names...); err != nil {
		env.Close()
		return nil, nil, nil, err
	}
	procs := map[string]*localscf.Process{}
	for _, n := range names {
		procs[n] = &localscf.Process{Name: n, Binary: filepath.Join(binDir, n), Env: env.Environ(), Logs: logs, Timeout: 10 * time.Second}
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(names))
	for _, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- p.Start(ctx) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			stopAll(procs)
			env.Close()
			return nil, nil, nil, err
		}
	}
	return names, procs, env, nil
}

func stopAll(procs map[string]*localscf.Process) {
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); p.Stop() }()
	}
	wg.Wait()
}

// routes are what each function answers, for the banner.
var routes = map[string]string{
	"send-sms": "POST /send-sms", "phone-login": "POST /phone-login", "wx-login": "POST /wx-login",
	"phone-number-login": "POST /phone-number-login",
	"profile":            "GET|PATCH|PUT|DELETE /profile, POST|DELETE /profile/phone, POST|DELETE /profile/wechat",
	"token":              "POST /token/refresh, POST /token/logout",
}

func banner(w io.Writer, base, dataDir string, names []string, procs map[string]*localscf.Process, env *localscf.Environment) {
	fmt.Fprintf(w, "\nscf-auth local gateway on %s\n\n", base)
	for _, n := range names {
		fmt.Fprintf(w, "  %-20s pid %-7d %s\n", n, procs[n].PID(), routes[n])
	}
	notes := append([]string(nil), env.Notes...)
	sort.Strings(notes)
	fmt.Fprintln(w, "\nstand-ins for unset variables:")
	for _, n := range notes {
		fmt.Fprintln(w, "  "+n)
	}
	fmt.Fprintf(w, "\ndata folder: %s (delete it to start afresh)\n", dataDir)
	if env.Vars["SMS_PROVIDER"] == "console" {
		fmt.Fprintln(w, "SMS codes: printed below as  >>> SMS code for 138****8000: 123456 <<<")
	}
	if env.SimURL != "" {
		fmt.Fprintf(w, "WeChat codes: \"dev:<name>:<anything unique>\" (wx.login) and \"dev:<11 digits>:<anything unique>\" (getPhoneNumber),\n")
		fmt.Fprintf(w, "  each good once; or mint them: curl '%s/sim/login?user=alice'   curl '%s/sim/phone?number=13800138000'\n", env.SimURL, env.SimURL)
		if len(env.OtherApps) > 0 {
			fmt.Fprintf(w, "other WeChat apps: %s; send \"appId\" with a mini-program's \"code\",\n", strings.Join(env.OtherApps, ", "))
			fmt.Fprintf(w, "  or another app's \"oauthCode\": \"dev:<name>:<anything unique>\" (\"devbase:…\" for snsapi_base, \"devsnap:…\" a snapshot page);\n")
			fmt.Fprintf(w, "  one person is one unionid in all of them; mint: curl '%s/sim/oauth?app=<appId>&user=alice'\n", env.SimURL)
		}
	}
	if env.CaptchaTicket != "" {
		fmt.Fprintf(w, "captcha: send \"captchaTicket\":%q when asked (CAPTCHA_REQUIRED); each ticket works once, so then %q, %q…\n",
			env.CaptchaTicket, env.CaptchaTicket+"-2", env.CaptchaTicket+"-3")
	}
	fmt.Fprintf(w, "wx.cloud.callFunction: POST %s%s<function> with the call's data, the caller in X-WX-OPENID (and X-WX-UNIONID)\n", base, localscf.WXCloudPath)
	fmt.Fprintf(w, "\ntry:  curl -s %s/send-sms -d '{\"phone\":\"13800138000\"}'\n\nCtrl-C stops everything.\n\n", base)
}

// codeHighlighter passes function logs through and, for the console SMS
// provider, repeats each code on a line of its own so it is easy to spot.
type codeHighlighter struct {
	mu  sync.Mutex
	out io.Writer
}

func (c *codeHighlighter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.out.Write(p); err != nil {
		return 0, err
	}
	line := string(p)
	if strings.Contains(line, `"SMS code (console provider`) {
		fmt.Fprintf(c.out, "\n    >>> SMS code for %s: %s <<<\n\n", field(line, "phone"), field(line, "code"))
	}
	return len(p), nil
}

// field extracts a string member from a JSON log line without decoding it.
func field(line, name string) string {
	key := `"` + name + `":"`
	i := strings.Index(line, key)
	if i < 0 {
		return "?"
	}
	rest := line[i+len(key):]
	if j := strings.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return "?"
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run this inside the module (no go.mod found)")
		}
		dir = parent
	}
}
