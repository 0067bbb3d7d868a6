package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/app"
	"github.com/wxauth/scf-auth/pkg/logging"
	"github.com/wxauth/scf-auth/pkg/otp"
	"github.com/wxauth/scf-auth/pkg/phone"
	"github.com/wxauth/scf-auth/pkg/sms"
	"github.com/wxauth/scf-auth/pkg/smscode"
	"github.com/wxauth/scf-auth/pkg/store"
)

// handler sends login codes.
type handler struct {
	store   *store.Store
	sender  sms.Sender
	keys    smscode.Keys
	hasher  *otp.Hasher
	limits  limits
	captcha *captchaGate
	ttl     time.Duration
	now     func() time.Time
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
	gate, err := newCaptchaGate(d)
	if err != nil {
		return app.Handler{}, err
	}
	c := d.Config
	h := &handler{
		store:   d.Store,
		sender:  sender,
		keys:    d.SMSKeys,
		hasher:  d.CodeHasher,
		captcha: gate,
		limits: limits{
			cooldown: c.SMSCooldown, phoneHourly: c.SMSPhoneHourlyLimit, phoneDaily: c.SMSPhoneDailyLimit,
			clientHourly: c.SMSIPHourlyLimit, directHourly: c.SMSDirectHourlyLimit, globalHourly: c.SMSGlobalHourlyLimit,
		},
		ttl: c.SMSCodeTTL,
		now: d.Now,
	}
	return app.Handler{
		Routes:        []adapter.Route{{Method: http.MethodPost, Path: "/send-sms", Action: "send", Handle: h.send}},
		DefaultAction: "send",
	}, nil
}

// attempt is one send in progress: what it recorded, to take back if it is
// refused or fails.
type attempt struct {
	phoneKey string
	send     store.Send
	// client and global are the counts the send added, once it added them.
	client, global *store.Uncount
}

// counts are the counts to take back: all of them, or all but the
// client's.
func (a *attempt) counts(keepClient bool) []store.Uncount {
	var out []store.Uncount
	if a.client != nil && !keepClient {
		out = append(out, *a.client)
	}
	if a.global != nil {
		out = append(out, *a.global)
	}
	return out
}

// send records the send and judges it, each step one atomic round trip
// that sees every send recorded before it: the phone's sends (cooldown,
// per-phone caps), the client's and, when capped, the deployment's counts.
// Only a send the caps let through spends a captcha ticket, so a refused
// send leaves the user's solved captcha good for the next. Then it sends
// the SMS, and only once the provider took it is the code stored: a code
// nobody was sent is never there to be guessed. Three round trips (four
// with the global cap, one more when the phone has an account, to refuse a
// disabled one, one more to spend a ticket). A send the caps or the
// captcha refused is taken back, so it counts against nothing; one the
// provider refused gives back the phone's and the deployment's counts (the
// user may retry at once) but keeps the client's, so that refused sends
// cannot drive the provider past the client's cap; one whose outcome is
// unknown counts.
func (h *handler) send(ctx context.Context, req *adapter.Request) (any, error) {
	if err := req.Fields.Only("phone", "captchaTicket"); err != nil {
		return nil, err
	}
	raw, present, err := req.Fields.String("phone")
	if err != nil {
		return nil, err
	}
	if !present {
		return nil, apierror.BadField("phone", "is required")
	}
	ticket, _, err := req.Fields.String("captchaTicket")
	if err != nil {
		return nil, err
	}
	number, err := phone.Normalize(raw)
	if err != nil {
		return nil, apierror.BadPhone()
	}
	if err := h.captcha.requireTicket(ticket); err != nil {
		return nil, err
	}
	now := h.now()

	a := &attempt{phoneKey: h.keys.Phone(number), send: store.Send{ID: newSendID(), At: now}}
	state, err := h.store.RecordPhoneSend(ctx, a.phoneKey, a.send, now.Add(day))
	if err != nil {
		return nil, err
	}
	earlier := before(state.Sends, a.send)
	if err := h.limits.judgePhone(earlier, now); err != nil {
		return nil, h.takeBack(ctx, a, err)
	}
	if err := h.refuseDisabled(ctx, state, number); err != nil {
		return nil, h.takeBack(ctx, a, err)
	}
	client, err := h.count(ctx, h.keys.Client(req.ClientKey()), now, &a.client)
	if err != nil {
		return nil, h.takeBack(ctx, a, err)
	}
	if err := client.judge(h.limits.clientLimit(req), now); err != nil {
		return nil, h.takeBack(ctx, a, err)
	}
	globalEarlier := 0
	if h.limits.globalHourly > 0 {
		global, err := h.count(ctx, smscode.Global, now, &a.global)
		if err != nil {
			return nil, h.takeBack(ctx, a, err)
		}
		if err := global.judge(h.limits.globalHourly, now); err != nil {
			logging.FromContext(ctx).Warn("SMS_GLOBAL_HOURLY_LIMIT reached: sends are refused until the hour's count drops", "limit", h.limits.globalHourly)
			return nil, h.takeBack(ctx, a, err)
		}
		globalEarlier = global.earlier()
	}
	if err := h.captcha.pass(ctx, ticket, req.ClientIP, demand{
		phoneRecent: earlier.sentWithin(time.Hour, now), clientEarlier: client.earlier(), globalEarlier: globalEarlier,
	}); err != nil {
		return nil, h.takeBack(ctx, a, err)
	}
	if err := h.deliver(ctx, a, number, state, now); err != nil {
		return nil, err
	}
	return map[string]int{"cooldown": seconds(h.limits.cooldown), "expiresIn": seconds(h.ttl)}, nil
}

// count adds the send to a counter, noting it in *noted so that it can
// be taken back, and returns the counter as it saw it.
func (h *handler) count(ctx context.Context, key string, now time.Time, noted **store.Uncount) (counted, error) {
	minute := minuteOf(now)
	c, err := h.store.CountSend(ctx, key, minute, now.Add(time.Hour+time.Minute))
	if err != nil {
		return counted{}, err
	}
	*noted = &store.Uncount{Key: key, Minute: minute}
	seen := newCounted(c, now)
	if old := seen.staleMinutes(); old != nil {
		if err := h.store.PruneCounter(ctx, key, old); err != nil {
			logging.FromContext(ctx).Warn("send counter not pruned", "cause", err.Error())
		}
	}
	return seen, nil
}

// refuseDisabled refuses a send to the phone of a disabled account: the
// account the phone's SMS state names, or, when that one (unknown, or
// since unlinked) does not hold the phone, the account the phone's claim
// names. An extra round trip only for a phone that has an account.
func (h *handler) refuseDisabled(ctx context.Context, state *store.PhoneSMS, number string) error {
	p := store.PhoneIdentity(phone.CountryCode, number)
	holder := func(id bson.ObjectID) (*store.User, error) {
		u, err := h.store.UserByID(ctx, id)
		if errors.Is(err, store.ErrUserNotFound) || (err == nil && !u.Holds(p)) {
			return nil, nil
		}
		return u, err
	}
	var u *store.User
	var err error
	if state.UserID != nil {
		if u, err = holder(*state.UserID); err != nil {
			return err
		}
	}
	if u == nil && state.UserID != nil {
		c, err := h.store.ClaimOf(ctx, p)
		switch {
		case errors.Is(err, store.ErrNotClaimed):
			return nil
		case err != nil:
			return err
		}
		if u, err = holder(c.UserID); err != nil {
			return err
		}
	}
	if u != nil && u.IsDisabled() {
		return apierror.Disabled()
	}
	return nil
}

// deliver sends the code and stores it once the provider took it.
func (h *handler) deliver(ctx context.Context, a *attempt, number string, state *store.PhoneSMS, now time.Time) error {
	code, err := otp.Generate()
	if err != nil {
		return h.takeBack(ctx, a, err)
	}
	nonce := otp.NewNonce()
	stored := store.Code{Nonce: nonce, Hash: h.hasher.Hash(number, nonce, code), SentAt: now, ExpiresAt: now.Add(h.ttl)}
	sendCtx, cancel := context.WithTimeout(ctx, providerBudget(ctx))
	err = h.sender.Send(sendCtx, sms.Message{Phone: number, Code: code, TTL: h.ttl})
	cancel()
	log := logging.FromContext(ctx)
	if err != nil {
		se := sms.AsSendError(err)
		switch se.Outcome {
		case sms.Unknown:
			// The SMS may be on its way: its code works and it counts.
			log.Error("SMS send outcome unknown: counted, and its code kept in case it arrives",
				"phone", phone.Mask(number), "cause", se.Error())
			if err := h.saveCode(ctx, a, stored, state, now); err != nil {
				return err
			}
			return apierror.SendFailed(se).WithRetryAfter(seconds(h.limits.cooldown))
		case sms.Throttled:
			log.Warn("the SMS provider's frequency limit refused the send", "phone", phone.Mask(number), "cause", se.Error())
			return h.giveBackRefused(ctx, a, apierror.LimitExceeded(seconds(se.RetryAfter)))
		case sms.Misconfigured:
			log.Error("SMS provider refused the configuration: "+se.Fix, "cause", se.Error())
		default:
			log.Warn("SMS provider refused the send", "phone", phone.Mask(number), "cause", se.Error())
		}
		return h.giveBackRefused(ctx, a, apierror.SendFailed(se))
	}
	if err := h.saveCode(ctx, a, stored, state, now); err != nil {
		return err
	}
	log.Info("SMS code sent", "phone", phone.Mask(number))
	return nil
}

// saveCode stores the code of a send the provider took, even if the
// request's context is ending: the SMS is out.
func (h *handler) saveCode(ctx context.Context, a *attempt, code store.Code, state *store.PhoneSMS, now time.Time) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	return h.store.SaveCode(ctx, a.phoneKey, code, stale(state.Sends, now), now.Add(day))
}

// providerBudget is how long the SMS provider may take: what remains of
// the invocation less a second to record the outcome, at most 8s.
func providerBudget(ctx context.Context) time.Duration {
	budget := 8 * time.Second
	if deadline, ok := ctx.Deadline(); ok {
		budget = min(budget, time.Until(deadline)-time.Second)
	}
	return max(budget, 500*time.Millisecond)
}

// takeBack releases what the attempt recorded, so that it counts against
// nothing, even if the request's context is ending, and returns why.
func (h *handler) takeBack(ctx context.Context, a *attempt, why error) error {
	return h.release(ctx, a, false, why)
}

// giveBackRefused releases what a send the provider refused recorded but
// the client's count: the phone may be sent to again at once and the
// deployment's count is as before, but the client has spent one of its
// sends, or one client could keep the provider busy past its cap.
func (h *handler) giveBackRefused(ctx context.Context, a *attempt, why error) error {
	return h.release(ctx, a, true, why)
}

func (h *handler) release(ctx context.Context, a *attempt, keepClient bool, why error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := h.store.ReleaseSend(ctx, a.phoneKey, a.send, a.counts(keepClient)...); err != nil {
		logging.FromContext(ctx).Error("refused send not taken back: it counts until it expires", "cause", err.Error())
	}
	return why
}

func newSendID() string {
	var b [9]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
