package checker

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"

	"github.com/wxauth/scf-auth/pkg/embeddeddb"
	"github.com/wxauth/scf-auth/pkg/sms/smstest"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
	"github.com/wxauth/scf-auth/scripts/internal/localscf"
)

// Faults injects random faults into the writes of a database: the
// embedded server does.
type Faults interface {
	SetRandomFaults(db string, rf embeddeddb.RandomFaults) embeddeddb.FaultCounts
}

// Setup says where the world runs.
type Setup struct {
	// Root is the module's root, BinDir where its functions were built
	// (localscf.Build).
	Root, BinDir  string
	URI, Database string
	Faults        Faults
	// MaxAttempts is SMS_MAX_ATTEMPTS.
	MaxAttempts int
}

// World is the system under check: every function as its own process over
// SCF's runtime protocol, behind the local gateway, on one database, with
// the SMS fake and the WeChat simulator.
type World struct {
	URL       string
	Functions map[string]*localscf.Process
	SMS       *smstest.Server
	WeChat    *wechatsim.Sim
	Store     *store.Store
	Faults    Faults
	Database  string
	AppID     string
	// MaxAttempts is SMS_MAX_ATTEMPTS of the functions.
	MaxAttempts int
	// Logs holds the functions' log lines that report an error.
	Logs *errorLines

	closers []func()
}

const (
	appID     = "wxchecker000000000"
	appSecret = "checker-secret"
	tcID      = "AKIDchecker"
	tcKey     = "checker-key"
)

// The brand's apps the checker logs in from: two mini-programs, a 公众号
// and a mobile app.
var apps = []struct{ id, kind string }{
	{appID, wechatsim.MiniProgram},
	{"wxchecker00000mini2", wechatsim.MiniProgram},
	{"wxchecker000000h5oa", wechatsim.OfficialAccount},
	{"wxchecker0000mobile", wechatsim.Mobile},
}

// Start runs the world.
func Start(ctx context.Context, s Setup) (*World, error) {
	if s.MaxAttempts == 0 {
		s.MaxAttempts = 5
	}
	w := &World{Faults: s.Faults, Database: s.Database, AppID: appID, MaxAttempts: s.MaxAttempts, Logs: &errorLines{}}
	st, err := store.Connect(s.URI, s.Database, "checker")
	if err != nil {
		return nil, err
	}
	w.Store = st
	w.closers = append(w.closers, func() { _ = st.Close(context.Background()) })
	if _, err := st.EnsureIndexes(ctx); err != nil {
		w.Close()
		return nil, err
	}
	w.SMS = smstest.NewServer(tcID, tcKey)
	w.closers = append(w.closers, w.SMS.Close)
	sim, simServer := wechatsim.NewServer(appID, appSecret)
	var others []string
	for _, a := range apps[1:] {
		sim.AddApp(a.id, appSecret, a.kind)
		others = append(others, a.id+":"+appSecret+":"+a.kind)
	}
	w.WeChat = sim
	w.closers = append(w.closers, simServer.Close)
	env := []string{
		"MONGODB_URI=" + s.URI, "MONGODB_DATABASE=" + s.Database, "JWT_SECRET=checker-secret-0123456789abcdef-0123",
		"SMS_PROVIDER=tencent", "SMS_ENDPOINT=" + w.SMS.URL, "TENCENTCLOUD_SECRET_ID=" + tcID, "TENCENTCLOUD_SECRET_KEY=" + tcKey,
		"SMS_SDK_APP_ID=1400000042", "SMS_SIGN_NAME=检查", "SMS_TEMPLATE_ID=42",
		"WECHAT_APPID=" + appID, "WECHAT_SECRET=" + appSecret, "WECHAT_API_BASE=" + simServer.URL,
		"WECHAT_APPS=" + strings.Join(others, ","),
		// Many sends to few phones from one address: caps out of the way,
		// the cooldown as short as it goes.
		"SMS_COOLDOWN=1s", "SMS_PHONE_HOURLY_LIMIT=10000", "SMS_PHONE_DAILY_LIMIT=100000",
		"SMS_IP_HOURLY_LIMIT=1000000", "SMS_GLOBAL_HOURLY_LIMIT=0", "SMS_DIRECT_HOURLY_LIMIT=1000000",
		fmt.Sprintf("SMS_MAX_ATTEMPTS=%d", s.MaxAttempts), "LOG_LEVEL=warn",
	}
	names, err := localscf.Functions(s.Root)
	if err != nil {
		w.Close()
		return nil, err
	}
	w.Functions = map[string]*localscf.Process{}
	for _, n := range names {
		p := &localscf.Process{Name: n, Binary: filepath.Join(s.BinDir, n), Env: env, Logs: w.Logs}
		if err := p.Start(ctx); err != nil {
			w.Close()
			return nil, err
		}
		w.closers = append(w.closers, p.Stop)
		w.Functions[n] = p
	}
	srv := httptest.NewServer(&localscf.Gateway{Functions: w.Functions})
	w.closers = append(w.closers, srv.Close)
	w.URL = srv.URL
	return w, nil
}

// Close stops everything Start started.
func (w *World) Close() {
	for i := len(w.closers) - 1; i >= 0; i-- {
		w.closers[i]()
	}
	w.closers = nil
}

// errorLines keeps the log lines of the functions that report an INTERNAL
// answer or a data race.
type errorLines struct {
	mu    sync.Mutex
	lines []string
}

func (e *errorLines) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if strings.Contains(line, `"status":500`) || strings.Contains(line, "DATA RACE") {
			e.mu.Lock()
			e.lines = append(e.lines, line)
			e.mu.Unlock()
		}
	}
	return len(p), nil
}

// Lines returns the lines kept so far.
func (e *errorLines) Lines() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.lines...)
}
