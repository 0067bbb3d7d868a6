// Command bench measures the functions as they run on SCF: separate
// processes over the runtime's RPC protocol, a real database protocol, and
// local stand-ins for WeChat and Tencent Cloud SMS.
//
//	go run ./scripts/bench coldstart [-n 10]
//	go run ./scripts/bench flow [-c 16] [-d 10s] [-users 5000]
//	go run ./scripts/bench wxstorm [-p 4] [-n 200]
//	go run ./scripts/bench checker [-ops 100000] [-seed N] [-c 8] [-people 6]
//
// coldstart: process start to the first answered invocation, per function.
// flow: send-sms → phone-login → GET /profile through the local gateway,
// with flows per second, latencies, CPU per flow of the database and of
// the functions (from /proc), round trips per request and each function's
// peak RSS; -users first stores that many earlier users, as their flows
// would have left them.
// wxstorm: stable_token fetches while several cold instances serve many
// phone-number logins at once.
// checker: the randomized invariant checker (scripts/internal/checker),
// long: random concurrent requests of a few people under injected
// database faults, then the stored state checked.
//
// Every run uses a fresh embedded database (or MONGODB_URI with a fresh
// database name), so runs compare equally sized databases. The embedded
// database runs as a process of its own, so that its CPU time is its own.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wxauth/scf-auth/pkg/sms/smstest"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
	"github.com/wxauth/scf-auth/scripts/internal/localscf"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./scripts/bench coldstart|flow|wxstorm|checker [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "coldstart":
		err = coldStart(os.Args[2:])
	case "flow":
		err = flow(os.Args[2:])
	case "wxstorm":
		err = wxStorm(os.Args[2:])
	case "checker":
		err = checkInvariants(os.Args[2:])
	case "db":
		err = serveDatabase(os.Args[2:])
	default:
		err = fmt.Errorf("unknown benchmark %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// world is a fresh database, the SMS fake and the WeChat simulator, and
// the built functions.
type world struct {
	root, bin string
	env       []string
	store     *store.Store
	// dbPID is the embedded database's process, 0 for MONGODB_URI.
	dbPID int
	sms   *smstest.Server
	sim   *wechatsim.Sim
	stop  []func()
}

const (
	benchAppID  = "wxbench00000000000"
	benchSecret = "bench-secret"
)

func newWorld(extra ...string) (*world, error) {
	root, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	w := &world{root: root}
	tmp, err := os.MkdirTemp("", "scf-auth-bench-")
	if err != nil {
		return nil, err
	}
	w.stop = append(w.stop, func() { os.RemoveAll(tmp) })
	uri := os.Getenv("MONGODB_URI")
	if uri == "" {
		db, err := startDatabase(filepath.Join(tmp, "db"))
		if err != nil {
			w.close()
			return nil, err
		}
		w.stop = append(w.stop, db.stop)
		w.dbPID = db.pid
		uri = db.uri
	}
	database := "bench_" + randomHex(4)
	st, err := store.Connect(uri, database, "bench")
	if err != nil {
		return nil, err
	}
	w.store = st
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := st.EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	w.stop = append(w.stop, func() { _ = st.DropDatabase(context.Background()); _ = st.Close(context.Background()) })

	w.sms = smstest.NewServer("AKIDbench", "bench-key")
	w.stop = append(w.stop, w.sms.Close)
	sim, simServer := wechatsim.NewServer(benchAppID, benchSecret)
	w.sim = sim
	w.stop = append(w.stop, simServer.Close)
	w.env = append([]string{
		"MONGODB_URI=" + uri, "MONGODB_DATABASE=" + database, "JWT_SECRET=bench-secret-0123456789abcdef0123456789",
		"SMS_PROVIDER=tencent", "SMS_ENDPOINT=" + w.sms.URL, "TENCENTCLOUD_SECRET_ID=AKIDbench", "TENCENTCLOUD_SECRET_KEY=bench-key",
		"SMS_SDK_APP_ID=1400000000", "SMS_SIGN_NAME=bench", "SMS_TEMPLATE_ID=1",
		"WECHAT_APPID=" + benchAppID, "WECHAT_SECRET=" + benchSecret, "WECHAT_API_BASE=" + simServer.URL,
		"LOG_LEVEL=warn",
	}, extra...)
	w.bin = filepath.Join(tmp, "bin")
	fmt.Fprintln(os.Stderr, "building functions…")
	if err := localscf.Build(context.Background(), root, w.bin); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *world) process(name string) *localscf.Process {
	return &localscf.Process{Name: name, Binary: filepath.Join(w.bin, name), Env: w.env}
}

func (w *world) close() {
	for i := len(w.stop) - 1; i >= 0; i-- {
		w.stop[i]()
	}
}

// coldStart starts each function n times and invokes it once each time.
func coldStart(args []string) error {
	fs := flag.NewFlagSet("coldstart", flag.ExitOnError)
	n := fs.Int("n", 10, "starts per function")
	_ = fs.Parse(args)
	w, err := newWorld()
	if err != nil {
		return err
	}
	defer w.close()
	names, err := localscf.Functions(w.root)
	if err != nil {
		return err
	}
	// A representative first request of each function, touching the
	// database (and the SMS fake) where the function does.
	events := map[string]string{
		"send-sms":           `{"phone":"PHONE"}`,
		"phone-login":        `{"phone":"13800138000","code":"000000"}`,
		"wx-login":           `{"code":"bogus"}`,
		"phone-number-login": `{"loginCode":"bogus","phoneCode":"bogus"}`,
		"profile":            `{"accessToken":"none"}`,
		"token":              `{"action":"refresh","refreshToken":"AAAAAAAAAAAAAAAAAAAAAA.0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`,
	}
	fmt.Printf("cold start: exec to first answered invocation over RPC (%d starts each)\n", *n)
	fmt.Printf("%-20s %10s %10s %10s\n", "function", "median", "p90", "max")
	for _, name := range names {
		var samples []time.Duration
		for i := 0; i < *n; i++ {
			p := w.process(name)
			if err := p.Start(context.Background()); err != nil {
				return err
			}
			event := strings.Replace(events[name], "PHONE", "1380000"+fmt.Sprintf("%04d", i), 1)
			if _, err := localscf.InvokeDirect(context.Background(), p, []byte(event)); err != nil {
				return err
			}
			samples = append(samples, p.ColdStart)
			p.Stop()
		}
		fmt.Printf("%-20s %10s %10s %10s\n", name, pct(samples, 50), pct(samples, 90), pct(samples, 100))
	}
	return nil
}

func pct(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p+99)/100 - 1
	if i < 0 {
		i = 0
	}
	return s[i].Round(100 * time.Microsecond)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// peakRSS reads a process's high-water resident set size, in MiB.
func peakRSS(pid int) string {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
		}
	}
	return "?"
}
