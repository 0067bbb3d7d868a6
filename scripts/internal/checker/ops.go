package checker

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// client is one of the concurrent clients: it runs a random sequence of
// operations, each one or a few requests on behalf of a person.
type client struct {
	id     int
	w      *World
	rnd    *rand.Rand
	people []*person
	book   *book
	rec    *recorder
}

// op is one operation as it ran: its requests and their answers.
type op struct {
	seq    int
	client int
	person *person
	name   string
	steps  []string
	c      *client
}

func (o *op) note(what string, a answer) answer {
	o.steps = append(o.steps, what+" → "+a.String())
	if a.Err != nil {
		o.violate("no answer: %v", a.Err)
	} else if a.Status == 500 || a.Code == "INTERNAL" {
		o.violate("%s answered INTERNAL", what)
	}
	return a
}

func (o *op) violate(format string, args ...any) {
	o.c.rec.violation(o, fmt.Sprintf(format, args...))
}

// operations, with their weights.
var operations = []struct {
	name   string
	weight int
	run    func(*client, context.Context, *op)
}{
	{"sms-login", 14, (*client).smsLogin},
	{"wx-login", 12, (*client).wxLogin},
	{"phone-number-login", 8, (*client).phoneNumberLogin},
	{"bind-phone", 8, (*client).bindPhone},
	{"unbind-phone", 4, (*client).unbindPhone},
	{"bind-wechat", 6, (*client).bindWeChat},
	{"unbind-wechat", 4, (*client).unbindWeChat},
	{"delete", 2, (*client).deleteAccount},
	{"refresh", 8, (*client).refresh},
	{"logout", 3, (*client).logout},
	{"profile", 4, (*client).profile},
	{"guess", 3, (*client).guess},
}

func (c *client) chance(p float64) bool { return c.rnd.Float64() < p }

func (c *client) onePerson() *person { return c.people[c.rnd.IntN(len(c.people))] }

// caller is the userInfo the WeChat platform injects for p's wx.cloud call
// from one of the mini-programs.
func (c *client) caller(p *person) map[string]any {
	app := c.miniProgram()
	return map[string]any{"appId": app, "openId": p.in(app).OpenID}
}

// miniProgram and anyApp pick one of the brand's apps.
func (c *client) miniProgram() string { return apps[c.rnd.IntN(2)].id }
func (c *client) anyApp() int         { return c.rnd.IntN(len(apps)) }

// weChatLogin is the members a login page of a random app sends: appId and
// a wx.login() code (field name loginField) or an OAuth code.
func (c *client) weChatLogin(p *person, loginField string) []any {
	a := apps[c.anyApp()]
	if a.kind == wechatsim.MiniProgram {
		return []any{"appId", a.id, loginField, c.w.WeChat.NewLoginCodeFor(a.id, p.in(a.id))}
	}
	scope := wechatsim.ScopeLogin
	if a.kind == wechatsim.OfficialAccount {
		scope = wechatsim.ScopeUserInfo
	}
	return []any{"appId", a.id, "oauthCode", c.w.WeChat.NewOAuthCode(a.id, p.in(a.id), scope)}
}

// sendCode asks for a code to phone and returns the last code the SMS fake
// saw for it (an older one when this send was refused: it may be stale).
func (c *client) sendCode(ctx context.Context, o *op, phone string) string {
	o.note("send-sms "+phone, c.w.call(ctx, "POST", "/send-sms", body("phone", phone), ""))
	return c.w.SMS.LastCodeFor(phone)
}

// loggedIn keeps the session a login answered, and checks that its
// account holds what the login proved.
func (c *client) loggedIn(o *op, p *person, a answer, phone string, wechat bool) {
	if !a.ok() {
		return
	}
	if phone != "" && a.userField("phone") != phone {
		o.violate("logged in with %s into an account whose phone is %v", phone, a.userField("phone"))
	}
	if wechat && a.userField("wechatBound") != true {
		o.violate("logged in with WeChat into an account without it")
	}
	c.book.add(p, &session{access: a.str("accessToken"), refresh: a.str("refreshToken"), userID: a.user()})
}

func (c *client) smsLogin(ctx context.Context, o *op) {
	p := o.person
	phone := p.phones[c.rnd.IntN(2)]
	code := c.sendCode(ctx, o, phone)
	if code == "" {
		return
	}
	withWeChat := c.chance(0.5)
	var a answer
	switch {
	case withWeChat && c.chance(0.3):
		a = o.note("phone-login (wx.cloud) "+phone, c.w.invoke(ctx, "phone-login", map[string]any{"phone": phone, "code": code, "userInfo": c.caller(p)}))
	case withWeChat:
		a = o.note("phone-login +WeChat "+phone, c.w.call(ctx, "POST", "/phone-login", body(append([]any{"phone", phone, "code", code}, c.weChatLogin(p, "loginCode")...)...), ""))
	default:
		a = o.note("phone-login "+phone, c.w.call(ctx, "POST", "/phone-login", body("phone", phone, "code", code), ""))
	}
	c.loggedIn(o, p, a, phone, false)
}

func (c *client) wxLogin(ctx context.Context, o *op) {
	p := o.person
	var a answer
	if c.chance(0.3) {
		a = o.note("wx-login (wx.cloud)", c.w.invoke(ctx, "wx-login", map[string]any{"userInfo": c.caller(p)}))
	} else {
		fields := c.weChatLogin(p, "code")
		if c.chance(0.3) {
			fields = append(fields, "nickname", "昵称"+p.name)
		}
		a = o.note("wx-login "+fields[1].(string), c.w.call(ctx, "POST", "/wx-login", body(fields...), ""))
	}
	c.loggedIn(o, p, a, "", true)
}

func (c *client) phoneNumberLogin(ctx context.Context, o *op) {
	p := o.person
	phone := p.phones[c.rnd.IntN(2)]
	phoneCode := c.w.WeChat.NewPhoneCode("86", phone)
	var a answer
	if c.chance(0.3) {
		a = o.note("phone-number-login (wx.cloud) "+phone, c.w.invoke(ctx, "phone-number-login", map[string]any{"phoneCode": phoneCode, "userInfo": c.caller(p)}))
	} else {
		app := c.miniProgram()
		a = o.note("phone-number-login "+phone, c.w.call(ctx, "POST", "/phone-number-login", body("appId", app, "loginCode", c.w.WeChat.NewLoginCodeFor(app, p.in(app)), "phoneCode", phoneCode), ""))
	}
	c.loggedIn(o, p, a, phone, true)
}

// change sends an identity change (or a deletion) with the session's
// token and, when the answer asks for a proof (the session signed in too
// long ago), once more with the silent one a mini-program sends: a
// wx.login() code of the person's WeChat.
func (c *client) change(ctx context.Context, o *op, p *person, what, method, path string, fields []any, token string) answer {
	a := o.note(what, c.w.call(ctx, method, path, body(fields...), token))
	if a.Code != "REAUTH_REQUIRED" {
		return a
	}
	proof := map[string]any{"loginCode": c.w.WeChat.NewLoginCode(p.in(appID))}
	return o.note(what+" with a proof", c.w.call(ctx, method, path, body(append(fields, "proof", proof)...), token))
}

// sessionOf picks one of p's sessions; nil (and nothing to do) when p has
// none yet.
func (c *client) sessionOf(p *person) *session {
	return c.book.pick(p, c.rnd.IntN)
}

func (c *client) bindPhone(ctx context.Context, o *op) {
	s := c.sessionOf(o.person)
	if s == nil {
		return
	}
	owner := o.person
	if c.chance(0.1) {
		owner = c.onePerson() // someone else's number: a conflict, or free
	}
	phone := owner.phones[c.rnd.IntN(2)]
	code := c.sendCode(ctx, o, phone)
	if code == "" {
		return
	}
	a := c.change(ctx, o, o.person, "bind "+phone, "POST", "/profile/phone", []any{"phone", phone, "code", code}, s.access)
	if a.ok() && a.userField("phone") != phone {
		o.violate("bound %s, the account answered has phone %v", phone, a.userField("phone"))
	}
}

func (c *client) unbindPhone(ctx context.Context, o *op) {
	s := c.sessionOf(o.person)
	if s == nil {
		return
	}
	a := c.change(ctx, o, o.person, "unbind phone", "DELETE", "/profile/phone", nil, s.access)
	if a.ok() && a.userField("phone") != nil {
		o.violate("unbound the phone, the account answered still has %v", a.userField("phone"))
	}
}

func (c *client) bindWeChat(ctx context.Context, o *op) {
	s := c.sessionOf(o.person)
	if s == nil {
		return
	}
	who := o.person
	if c.chance(0.1) {
		who = c.onePerson()
	}
	a := c.change(ctx, o, o.person, "bind wechat of "+who.name, "POST", "/profile/wechat", c.weChatLogin(who, "loginCode"), s.access)
	if a.ok() && a.userField("wechatBound") != true {
		o.violate("bound WeChat, the account answered has none")
	}
}

func (c *client) unbindWeChat(ctx context.Context, o *op) {
	s := c.sessionOf(o.person)
	if s == nil {
		return
	}
	a := c.change(ctx, o, o.person, "unbind wechat", "DELETE", "/profile/wechat", nil, s.access)
	if a.ok() && a.userField("wechatBound") != false {
		o.violate("unbound WeChat, the account answered still has it")
	}
}

func (c *client) deleteAccount(ctx context.Context, o *op) {
	s := c.sessionOf(o.person)
	if s == nil {
		return
	}
	c.change(ctx, o, o.person, "delete "+s.userID, "DELETE", "/profile", nil, s.access)
}

func (c *client) refresh(ctx context.Context, o *op) {
	p := o.person
	s := c.sessionOf(p)
	if s == nil {
		return
	}
	times := 1
	if c.chance(0.3) {
		times = 2 // a client refreshing twice at once
	}
	answers := make([]answer, times)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = c.w.call(ctx, "POST", "/token/refresh", body("refreshToken", s.refresh), "")
		}()
	}
	wg.Wait()
	for _, a := range answers {
		o.note("refresh", a)
		if !a.ok() {
			continue
		}
		if a.user() != s.userID {
			o.violate("refresh of a session of %s answered account %s", s.userID, a.user())
		}
		if earlier, twice := c.book.rotated(p, s.refresh, a.str("accessToken"), a.str("refreshToken")); twice {
			o.violate("refresh token rotated twice: to %.8s… and to %.8s…", earlier, a.str("refreshToken"))
		}
	}
}

func (c *client) logout(ctx context.Context, o *op) {
	s := c.sessionOf(o.person)
	if s == nil {
		return
	}
	o.note("logout", c.w.call(ctx, "POST", "/token/logout", body("all", c.chance(0.3)), s.access))
}

func (c *client) profile(ctx context.Context, o *op) {
	s := c.sessionOf(o.person)
	if s == nil {
		return
	}
	a := o.note("profile", c.w.call(ctx, "GET", "/profile", "", s.access))
	if a.ok() && a.user() != s.userID {
		o.violate("the token of %s read account %s", s.userID, a.user())
	}
}

// guess sends a code to the person's guess number, then a burst of wrong
// codes and the right one at once, through phone-login and, when the
// person has a session, POST /profile/phone. However they interleave, the
// code is judged at most SMS_MAX_ATTEMPTS times: a judged try answers OK
// (the right code) or CODE_INVALID with the attempts left.
func (c *client) guess(ctx context.Context, o *op) {
	p := o.person
	p.guessing.Lock()
	defer p.guessing.Unlock()
	right := c.sendCode(ctx, o, p.guessPhone)
	if right == "" {
		return
	}
	s := c.sessionOf(p)
	tries := []string{right}
	for len(tries) < c.w.MaxAttempts+3 {
		if wrong := fmt.Sprintf("%06d", c.rnd.IntN(1000000)); wrong != right {
			tries = append(tries, wrong)
		}
	}
	useLink := make([]bool, len(tries))
	for i := range useLink {
		useLink[i] = s != nil && c.chance(0.5)
	}
	answers := make([]answer, len(tries))
	var wg sync.WaitGroup
	for i, code := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if useLink[i] {
				answers[i] = c.w.call(ctx, "POST", "/profile/phone", body("phone", p.guessPhone, "code", code), s.access)
			} else {
				answers[i] = c.w.call(ctx, "POST", "/phone-login", body("phone", p.guessPhone, "code", code), "")
			}
		}()
	}
	wg.Wait()
	judged := 0
	for i, a := range answers {
		what := "guess via phone-login"
		if useLink[i] {
			what = "guess via bind"
		}
		if i == 0 {
			what += " (right)"
		}
		o.note(what, a)
		left, hasLeft := a.Data["attemptsLeft"].(float64)
		switch {
		case a.ok() && i == 0:
			judged++
		case a.ok():
			o.violate("a wrong code was taken for right")
		case a.Code == "CODE_INVALID" && hasLeft && left >= 0:
			judged++
		}
	}
	if judged > c.w.MaxAttempts {
		o.violate("one code judged %d times, at most %d allowed", judged, c.w.MaxAttempts)
	}
}
