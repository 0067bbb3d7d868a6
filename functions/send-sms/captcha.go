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

// pass is what the ticket of a send showed.
type pass struct {
	verified bool
	// outage is why the captcha service could not judge the ticket.
	outage error
}

// check judges a ticket before anything is counted: a rejected, forged or
// reused ticket is CAPTCHA_INVALID and counts nothing. In always mode a
// send without one is CAPTCHA_REQUIRED at once, and a captcha service that
// cannot judge refuses the send; in adaptive mode it only leaves the send
// unverified (require decides).
func (g *captchaGate) check(ctx context.Context, ticket, clientIP string) (pass, error) {
	if g.mode == config.CaptchaOff {
		return pass{}, nil
	}
	if ticket == "" {
		if g.mode == config.CaptchaAlways {
			return pass{}, apierror.NeedCaptcha(g.verifier.AppID())
		}
		return pass{}, nil
	}
	if clientIP == "" {
		clientIP = "0.0.0.0" // a wx.cloud call has no address
	}
	err := g.verifier.Verify(ctx, ticket, clientIP)
	switch {
	case errors.Is(err, captcha.ErrRejected):
		return pass{}, apierror.BadCaptcha(err)
	case err != nil && g.mode == config.CaptchaAlways:
		logging.FromContext(ctx).Error("captcha service failed: CAPTCHA_MODE is always, so the send is refused", "cause", err.Error())
		return pass{}, apierror.Unavailable(err)
	case err != nil:
		return pass{outage: err}, nil
	}
	// The captcha service refuses a ticket used twice too; this does not
	// rely on it alone.
	err = g.store.ClaimTicket(ctx, g.keys.Ticket(ticket), g.now().Add(ticketMemory))
	if errors.Is(err, store.ErrDuplicate) {
		return pass{}, apierror.BadCaptcha(errors.New("ticket already used for a send"))
	}
	if err != nil {
		return pass{}, err
	}
	return pass{verified: true}, nil
}

// demand is what the send's counts said about it.
type demand struct {
	phoneRecent   bool
	clientEarlier int
	globalEarlier int
}

// require refuses a send that needs a captcha and has no good ticket.
func (g *captchaGate) require(ctx context.Context, p pass, d demand) error {
	if g.mode != config.CaptchaAdaptive || p.verified {
		return nil
	}
	needed := d.phoneRecent || d.clientEarlier >= g.freeSends || (g.globalLimit > 0 && 2*d.globalEarlier > g.globalLimit)
	switch {
	case !needed:
		return nil
	case p.outage != nil:
		logging.FromContext(ctx).Error("captcha service failed: sends that need a captcha are refused until it answers", "cause", p.outage.Error())
		return apierror.Unavailable(p.outage)
	}
	return apierror.NeedCaptcha(g.verifier.AppID())
}
