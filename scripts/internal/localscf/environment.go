package localscf

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wxauth/scf-auth/pkg/captcha/captchatest"
	"github.com/wxauth/scf-auth/pkg/embeddeddb"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// Development defaults for the WeChat app the simulator plays, and for
// the captcha stand-in.
const (
	DevAppID  = "wxdev0000000000000"
	DevSecret = "dev-app-secret"

	// The brand's other apps the simulator plays when WECHAT_APPS is
	// unset: a second mini-program, a 公众号 (H5 pages), a website and a
	// mobile app, each with DevSecret.
	DevSecondMiniProgram = "wxdev0000000000002"
	DevOfficialAccount   = "wxdev00000000000oa"
	DevWebsite           = "wxdev0000000000web"
	DevMobileApp         = "wxdev0000000000app"

	DevCaptchaAppID     = 190000000
	devCaptchaSecret    = "dev-captcha-secret"
	devTencentSecretID  = "AKIDdev00000000000000000"
	devTencentSecretKey = "dev-tencent-secret-key"
	// DevCaptchaTicket is the ticket the captcha stand-in accepts, and any
	// ticket that starts with it: like a real one, each works once.
	DevCaptchaTicket = "dev-ok"
)

// Environment is what the functions run against locally: the variables
// they are given, and the embedded database and WeChat simulator started
// for the variables left unset.
type Environment struct {
	// Vars are added to the functions' environment.
	Vars  map[string]string
	Notes []string
	// WeChatAppID is the functions' WECHAT_APPID, given or stood in for:
	// the app of a local wx.cloud caller.
	WeChatAppID string
	// OtherApps are the WeChat apps of WECHAT_APPS the simulator plays
	// ("appid (kind)"), for the banner.
	OtherApps []string

	stopDB func()
	sim    *http.Server
	Sim    *wechatsim.Sim
	SimURL string
	// CaptchaTicket is the stand-in's ticket, when the captcha stand-in
	// runs.
	CaptchaTicket string
	captcha       *captchatest.Server
}

// NewEnvironment prepares the functions' environment under dataDir, keeping
// whatever getenv already sets (so a real MongoDB, a WeChat fake or Tencent
// Cloud can be used instead), and filling the rest with local stand-ins.
func NewEnvironment(dataDir string, getenv func(string) string) (*Environment, error) {
	e := &Environment{Vars: map[string]string{}}
	set := func(name, value, note string) {
		if getenv(name) == "" {
			e.Vars[name] = value
			if note != "" {
				e.Notes = append(e.Notes, note)
			}
		}
	}

	if getenv("MONGODB_URI") == "" {
		uri, stop, err := DevDatabase(dataDir)
		if err != nil {
			return nil, err
		}
		e.stopDB = stop
		set("MONGODB_URI", uri, "MONGODB_URI: embedded database in "+filepath.Join(dataDir, "db"))
	}
	// The local environment sets the database up, as a deployment's
	// migration does.
	report, err := ensureIndexes(firstSet(getenv("MONGODB_URI"), e.Vars["MONGODB_URI"]), firstSet(getenv("MONGODB_DATABASE"), "auth"))
	if err != nil {
		e.Close()
		return nil, err
	}
	e.Notes = append(e.Notes, "indexes: "+report)
	secret, err := devSecret(filepath.Join(dataDir, "jwt-secret"))
	if err != nil {
		e.Close()
		return nil, err
	}
	set("JWT_SECRET", secret, "JWT_SECRET: development key in "+filepath.Join(dataDir, "jwt-secret"))
	set("WECHAT_APPID", DevAppID, "WECHAT_APPID: "+DevAppID+" (development)")
	e.WeChatAppID = firstSet(getenv("WECHAT_APPID"), DevAppID)
	set("WECHAT_SECRET", DevSecret, "")
	if getenv("WECHAT_API_BASE") == "" {
		appID, secret := firstSet(getenv("WECHAT_APPID"), DevAppID), firstSet(getenv("WECHAT_SECRET"), DevSecret)
		if err := e.startSimulator(appID, secret); err != nil {
			e.Close()
			return nil, err
		}
		set("WECHAT_API_BASE", e.SimURL, "WECHAT_API_BASE: WeChat simulator at "+e.SimURL)
		devApps := []string{
			DevSecondMiniProgram + ":" + DevSecret + ":" + wechatsim.MiniProgram,
			DevOfficialAccount + ":" + DevSecret + ":" + wechatsim.OfficialAccount,
			DevWebsite + ":" + DevSecret + ":" + wechatsim.Website,
			DevMobileApp + ":" + DevSecret + ":" + wechatsim.Mobile,
		}
		set("WECHAT_APPS", strings.Join(devApps, ","), "WECHAT_APPS: development apps "+strings.Join([]string{DevSecondMiniProgram, DevOfficialAccount, DevWebsite, DevMobileApp}, ", "))
		for _, entry := range strings.Split(firstSet(getenv("WECHAT_APPS"), e.Vars["WECHAT_APPS"]), ",") {
			if parts := strings.Split(strings.TrimSpace(entry), ":"); len(parts) == 3 {
				e.Sim.AddApp(parts[0], parts[1], parts[2])
				e.OtherApps = append(e.OtherApps, parts[0]+" ("+parts[2]+")")
			}
		}
	}
	if mode := strings.ToLower(getenv("CAPTCHA_MODE")); mode != "" && mode != "off" &&
		getenv("CAPTCHA_APP_ID") == "" && getenv("CAPTCHA_APP_SECRET_KEY") == "" {
		e.startCaptcha(getenv, set)
	}
	set("SMS_PROVIDER", "console", "SMS_PROVIDER: console, codes are printed below")
	if firstSet(getenv("SMS_PROVIDER"), e.Vars["SMS_PROVIDER"]) == "tencent" {
		set("SMS_SDK_APP_ID", "1400000000", "SMS_SDK_APP_ID: development placeholder")
		set("SMS_SIGN_NAME", "开发测试", "")
		set("SMS_TEMPLATE_ID", "1000000", "")
	}
	return e, nil
}

// Environ is the variables as KEY=value lines.
func (e *Environment) Environ() []string {
	var out []string
	for k, v := range e.Vars {
		out = append(out, k+"="+v)
	}
	return out
}

func (e *Environment) startSimulator(appID, secret string) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	e.Sim = wechatsim.New(appID, secret)
	e.sim = &http.Server{Handler: e.Sim.Handler()}
	e.SimURL = "http://" + l.Addr().String()
	go func() { _ = e.sim.Serve(l) }()
	return nil
}

// startCaptcha runs the captcha stand-in: the signature-checking fake of
// the captcha API, taking any ticket that starts with DevCaptchaTicket, so
// that the real captcha client runs locally too.
func (e *Environment) startCaptcha(getenv func(string) string, set func(name, value, note string)) {
	id, key := getenv("TENCENTCLOUD_SECRET_ID"), getenv("TENCENTCLOUD_SECRET_KEY")
	if id == "" || key == "" {
		id, key = devTencentSecretID, devTencentSecretKey
		e.Vars["TENCENTCLOUD_SECRET_ID"], e.Vars["TENCENTCLOUD_SECRET_KEY"] = id, key
	}
	e.captcha = captchatest.NewServer(id, key, DevCaptchaAppID, devCaptchaSecret)
	e.captcha.DevTickets = true
	e.CaptchaTicket = DevCaptchaTicket
	set("CAPTCHA_APP_ID", strconv.Itoa(DevCaptchaAppID), "CAPTCHA_APP_ID: captcha stand-in at "+e.captcha.URL+", takes tickets starting with "+DevCaptchaTicket)
	set("CAPTCHA_APP_SECRET_KEY", devCaptchaSecret, "")
	set("CAPTCHA_ENDPOINT", e.captcha.URL, "")
}

// DevDatabase starts the local development database kept in dataDir, or
// joins the one another local command (a running gateway) already serves
// from there: two servers must never share the files. stop is a no-op when
// joining.
func DevDatabase(dataDir string) (uri string, stop func(), err error) {
	uriFile := filepath.Join(dataDir, "db.uri")
	if b, err := os.ReadFile(uriFile); err == nil {
		uri := strings.TrimSpace(string(b))
		if hostPort, ok := strings.CutPrefix(strings.TrimSuffix(uri, "/"), "mongodb://"); ok {
			if c, err := net.DialTimeout("tcp", hostPort, 300*time.Millisecond); err == nil {
				c.Close()
				return uri, func() {}, nil
			}
		}
	}
	db, err := embeddeddb.Start(filepath.Join(dataDir, "db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(uriFile, []byte(db.URI+"\n"), 0o600); err != nil {
		db.Stop()
		return "", nil, err
	}
	return db.URI, func() { _ = os.Remove(uriFile); db.Stop() }, nil
}

// DevEnvironment is getenv with MONGODB_URI pointing at the local
// development database (DevDatabase), and JWT_SECRET, when unset, the one
// the gateway keeps in dataDir: what an operator's command needs to work
// on the data go run ./scripts/dev made.
func DevEnvironment(dataDir string, getenv func(string) string) (env func(string) string, stop func(), err error) {
	uri, stop, err := DevDatabase(dataDir)
	if err != nil {
		return nil, nil, err
	}
	secret, _ := os.ReadFile(filepath.Join(dataDir, "jwt-secret"))
	return func(k string) string {
		switch {
		case k == "MONGODB_URI":
			return uri
		case k == "JWT_SECRET" && getenv(k) == "":
			return string(secret)
		}
		return getenv(k)
	}, stop, nil
}

// ensureIndexes sets up the store's indexes and summarises what it did.
func ensureIndexes(uri, database string) (string, error) {
	st, err := store.Connect(uri, database, "scf-auth/dev")
	if err != nil {
		return "", errors.New("MONGODB_URI is not a valid connection string")
	}
	defer st.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	results, err := st.EnsureIndexes(ctx)
	if err != nil {
		return "", fmt.Errorf("set up indexes on MONGODB_URI: %w", err)
	}
	counts := map[string]int{}
	for _, r := range results {
		counts[r.Outcome]++
	}
	return fmt.Sprintf("%d created, %d already there, %d the server cannot build (TTL)",
		counts[store.IndexCreated], counts[store.IndexExists], counts[store.IndexUnsupported]), nil
}

// Close stops the simulator, the captcha stand-in and the embedded
// database.
func (e *Environment) Close() {
	if e.sim != nil {
		_ = e.sim.Close()
	}
	if e.captcha != nil {
		e.captcha.Close()
	}
	if e.stopDB != nil {
		e.stopDB()
	}
}

// devSecret returns the development JWT key kept in path, making it on
// first use, so tokens survive a restart of the gateway.
func devSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	secret := hex.EncodeToString(b[:])
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("keep development key: %w", err)
	}
	return secret, nil
}

func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
