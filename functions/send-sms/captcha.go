package main

import (
	"context"
	"errors"
	"time"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/app"
	"github.com/wxauth/scf-auth/pkg/captcha"
	"github.com/wxauth/scf-auth/pkg/config"
	"github.com/wxauth/scf-auth/pkg/logging"
	"github.com/wxauth/scf-auth/pkg/smscode"
	"github.com/wxauth/scf-auth/pkg/store"
)

// captchaGate applies CAPTCHA_MODE (API.md §4): off; always, where every
// send needs a ticket; adaptive, where a send needs one when the phone had
// a send in the last hour, the client had CAPTCHA_FREE_SENDS sends in it,
// or the deployment passed half its global hourly cap.
type captchaGate struct {
	mode        string
	verifier    captcha.Verifier
	store       *store.Store
	keys        smscode.Keys
	freeSends   int
	globalLimit int
	now         func() time.Time
}

// ticketMemory is how long a used ticket is remembered; Tencent's tickets
// expire well before.
const ticketMemory = time.Hour

func newCaptchaGate(d *app.Deps) (*captchaGate, error) {
	g := &captchaGate{
		mode: d.Config.CaptchaMode, store: d.Store, keys: d.SMSKeys, now: d.Now,
		freeSends: d.Config.CaptchaFreeSends, globalLimit: d.Config.SMSGlobalHourlyLimit,
	}
	if g.mode == config.CaptchaOff {
		return g, nil
	}
	v, err := captcha.FromConfig(d.Config, d.Getenv)
	if err != nil {
		return nil, err
	}
	g.verifier = v
	return g, nil
}

// requireTicket refuses at once, before anything is counted, a send
// without a ticket when every send needs one (always).
func (g *captchaGate) requireTicket(ticket string) error {
	if g.mode == config.CaptchaAlways && ticket == "" {
		return apierror.NeedCaptcha(g.verifier.AppID())
	}
	return nil
}

// demand is what the send's counts said about it.
type demand struct {
	phoneRecent   bool
	clientEarlier int
	globalEarlier int
}

// needed reports whether a send needs a captcha: every send in always
// mode; in adaptive mode one to a phone that had a send in the last hour,
// from a client that had CAPTCHA_FREE_SENDS sends in it, or past half the
// deployment's global cap.
func (g *captchaGate) needed(d demand) bool {
	switch g.mode {
	case config.CaptchaAlways:
		return true
	case config.CaptchaAdaptive:
		return d.phoneRecent || d.clientEarlier >= g.freeSends || (g.globalLimit > 0 && 2*d.globalEarlier > g.globalLimit)
	}
	return false
}

// pass lets a send the caps let through go on when it needs no captcha or
// brings a good ticket, which it then spends. It is called only once the
// caps have judged the send, so a send they refuse leaves the ticket good
// for the next try. A ticket the captcha service rejects, or one already
// used, is CAPTCHA_INVALID; when the service cannot judge, the send is
// refused (logged) and the ticket left unspent. A ticket sent along with a
// send that needs none is not looked at.
func (g *captchaGate) pass(ctx context.Context, ticket, clientIP string, d demand) error {
	switch {
	case !g.needed(d):
		return nil
	case ticket == "":
		return apierror.NeedCaptcha(g.verifier.AppID())
	}
	if clientIP == "" {
		clientIP = "0.0.0.0" // a wx.cloud call may have no address
	}
	err := g.verifier.Verify(ctx, ticket, clientIP)
	switch {
	case errors.Is(err, captcha.ErrRejected):
		return apierror.BadCaptcha(err)
	case err != nil:
		logging.FromContext(ctx).Error("captcha service failed: sends that need a captcha are refused until it answers", "mode", g.mode, "cause", err.Error())
		return apierror.Unavailable(err)
	}
	// The captcha service refuses a ticket used twice too; this does not
	// rely on it alone.
	err = g.store.ClaimTicket(ctx, g.keys.Ticket(ticket), g.now().Add(ticketMemory))
	if errors.Is(err, store.ErrDuplicate) {
		return apierror.BadCaptcha(errors.New("ticket already used for a send"))
	}
	return err
}
