package main

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/app"
	"github.com/wxauth/scf-auth/pkg/logging"
	"github.com/wxauth/scf-auth/pkg/otp"
	"github.com/wxauth/scf-auth/pkg/phone"
	"github.com/wxauth/scf-auth/pkg/sms"
	"github.com/wxauth/scf-auth/pkg/store"
)

// handler sends login codes.
type handler struct {
	store  *store.Store
	sender sms.Sender
	codes  *otp.Hasher
	limits limits
	ttl    time.Duration
	now    func() time.Time
}

func newHandler(d *app.Deps) (app.Handler, error) {
	if err := d.Config.RequireSMS(); err != nil {
		return app.Handler{}, err
	}
	sender, err := sms.FromConfig(d.Config, d.Getenv)
	if err != nil {
		return app.Handler{}, err
	}
	if _, console := sender.(sms.Console); console {
		d.Logger.Warn("SMS_PROVIDER is console: codes are written to the log, for local development only")
	}
	c := d.Config
	h := &handler{
		store:  d.Store,
		sender: sender,
		codes:  otp.NewHasher(d.CodeKey),
		limits: limits{
			cooldown: c.SMSCooldown, phoneHourly: c.SMSPhoneHourlyLimit,
			phoneDaily: c.SMSPhoneDailyLimit, clientHourly: c.SMSIPHourlyLimit,
		},
		ttl: c.SMSCodeTTL,
		now: d.Now,
	}
	return app.Handler{
		Routes:        []adapter.Route{{Method: http.MethodPost, Path: "/send-sms", Action: "send", Handle: h.send}},
		DefaultAction: "send",
	}, nil
}

// send records the send (which claims this phone's cooldown window), checks
// the limits against the sends of the last day, stores the code's hash and
// only then sends the SMS. Three round trips on success, unless concurrent
// sends of the same client contend for the last places. A refused or
// failed send is forgotten, so it counts against nothing and the user may
// retry at once after a provider failure.
func (h *handler) send(ctx context.Context, req *adapter.Request) (any, error) {
	if err := req.Fields.Only("phone"); err != nil {
		return nil, err
	}
	raw, present, err := req.Fields.String("phone")
	if err != nil {
		return nil, err
	}
	if !present {
		return nil, apierror.BadField("phone", "is required")
	}
	number, err := phone.Normalize(raw)
	if err != nil {
		return nil, apierror.BadPhone()
	}

	now := h.now()
	rec := &store.SMSSend{
		ID: store.SendWindowID(number, now, h.limits.cooldown), Phone: number, Client: clientKey(req),
		At: now, ExpiresAt: now.Add(day),
	}
	if err := h.store.ClaimSend(ctx, rec); errors.Is(err, store.ErrDuplicate) {
		return nil, h.cooldownOf(ctx, rec.ID, now)
	} else if err != nil {
		return nil, err
	}
	err = h.judge(ctx, rec, now)
	if err == nil {
		err = h.saveAndSend(ctx, number, now)
	}
	if err != nil {
		h.forget(ctx, rec.ID)
		return nil, err
	}
	logging.FromContext(ctx).Info("SMS code sent", "phone", phone.Mask(number))
	return map[string]int{"cooldown": seconds(h.limits.cooldown), "expiresIn": seconds(h.ttl)}, nil
}

// maxContention bounds how long a contended send keeps looking again. The
// sends it waits for are decided within a round trip or two, so this is
// only reached under a flood, where refusing is right anyway.
const maxContention = 1500 * time.Millisecond

// judge applies the limits, looking again while the send is contended, that
// is while sends recorded alongside it are still being decided.
func (h *handler) judge(ctx context.Context, rec *store.SMSSend, now time.Time) error {
	giveUp := time.Now().Add(maxContention)
	for round := 0; round == 0 || time.Now().Before(giveUp); round++ {
		if round > 0 {
			if err := pause(ctx, round); err != nil {
				return err
			}
		}
		recent, err := h.store.RecentSends(ctx, rec.Phone, now.Add(-day), rec.Client, now.Add(-time.Hour))
		if err != nil {
			return err
		}
		v, err := h.limits.check(rec, recent, now)
		switch v {
		case allowed:
			return nil
		case refused:
			return err
		}
	}
	return h.limits.contendedError()
}

// pause waits before a contended send looks again: 10ms, doubling up to
// 320ms, with jitter so that contenders spread out.
func pause(ctx context.Context, round int) error {
	d := 10*time.Millisecond<<min(round-1, 5) + time.Duration(rand.IntN(10))*time.Millisecond
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func (h *handler) saveAndSend(ctx context.Context, number string, now time.Time) error {
	code, err := otp.Generate()
	if err != nil {
		return err
	}
	nonce := otp.NewNonce()
	c := &store.SMSCode{
		Phone: number, Nonce: nonce, Hash: h.codes.Hash(number, nonce, code),
		SentAt: now, ExpiresAt: now.Add(h.ttl),
	}
	if err := h.store.SaveCode(ctx, c); err != nil {
		return err
	}
	// The code stays stored if the provider fails: had the SMS gone out
	// after all, it still works, and a retry replaces it anyway.
	if err := h.sender.Send(ctx, sms.Message{Phone: number, Code: code, TTL: h.ttl}); err != nil {
		return apierror.SendFailed(err)
	}
	return nil
}

// cooldownOf answers a send that fell in a window already claimed.
func (h *handler) cooldownOf(ctx context.Context, id string, now time.Time) error {
	prev, err := h.store.SendByID(ctx, id)
	if errors.Is(err, store.ErrSendNotFound) {
		return apierror.Cooldown(1) // the other send was just refused or failed
	} else if err != nil {
		return err
	}
	return apierror.Cooldown(seconds(prev.At.Add(h.limits.cooldown).Sub(now)))
}

// forget releases a send record; it must happen even if the request's
// context is ending.
func (h *handler) forget(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := h.store.ReleaseSend(ctx, id); err != nil {
		logging.FromContext(ctx).Error("send record not released: it counts until it expires", "cause", err.Error())
	}
}

// clientKey is whom the per-client cap counts: the IP the platform saw,
// or for wx.cloud calls (which have none) the caller's openid.
func clientKey(req *adapter.Request) string {
	switch {
	case req.ClientIP != "":
		return req.ClientIP
	case req.Caller != nil:
		return "openid:" + req.Caller.OpenID
	}
	return ""
}

// seconds rounds a wait up to whole seconds, at least one.
func seconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
