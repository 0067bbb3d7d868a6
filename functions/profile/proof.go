package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/wechat"
)

// The proof rule (API.md §4 "Proof before a change"). A change of the
// account's ways to log in (POST and DELETE /profile/phone and
// /profile/wechat) and its deletion go ahead only when the request shows
// that its caller still holds one of the account's identities, so that a
// stolen access token cannot move the account to its thief. It shows it
// by one of:
//
//   - a proof it sends, which is judged, and spent by this request:
//     "code", an SMS code sent by /send-sms to the account's current
//     phone, judged as a login code is (single use, the same attempts);
//     or "loginCode", a wx.login() code (or "oauthCode", the OAuth code of
//     a 公众号, website or mobile app; "appId" names the app, the first
//     mini-program by default) whose WeChat user is the account's (its
//     openid of that app, or its unionid), which WeChat takes once;
//   - without one, a session that signed in (a login, not a refresh) less
//     than REAUTH_WINDOW ago, or a wx.cloud caller the platform vouches
//     for that is the account's WeChat.
//
// Otherwise the answer is REAUTH_REQUIRED with the methods the account
// can prove (sms when it has a phone, wechat when it has WeChat), and
// nothing is spent or changed. A proof sent is always judged, even when
// the session alone would do: what a client sends is what is checked.

// proofHeader carries the proof as the same JSON for clients that drop a
// DELETE's body. The query string never does: logs and proxies keep it.
const proofHeader = "x-auth-proof"

// proof is what a request sends to prove itself; one of its fields is set.
type proof struct {
	code      string
	loginCode string
	oauthCode string
	appID     string
}

// readProof reads the proof of a request: the body's "proof" member (a
// direct invocation's, too), or the X-Auth-Proof header; nil when there
// is none.
func readProof(req *adapter.Request) (*proof, error) {
	raw, inBody := req.Fields["proof"]
	header := req.Headers[proofHeader]
	switch {
	case inBody && header != "":
		return nil, apierror.BadField("proof", "is sent both in the body and in the X-Auth-Proof header")
	case !inBody && header == "":
		return nil, nil
	case !inBody:
		raw = json.RawMessage(header)
	}
	var p struct {
		Code      *string `json:"code"`
		LoginCode *string `json:"loginCode"`
		OAuthCode *string `json:"oauthCode"`
		AppID     *string `json:"appId"`
	}
	raw = bytes.TrimSpace(raw)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if len(raw) == 0 || raw[0] != '{' || dec.Decode(&p) != nil {
		return nil, apierror.BadField("proof", `must be an object: {"code": "<SMS code>"} or {"loginCode": "<wx.login() code>"}`)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, apierror.BadField("proof", "has data after the JSON object")
	}
	given := 0
	for _, v := range []*string{p.Code, p.LoginCode, p.OAuthCode} {
		if v != nil {
			given++
		}
	}
	appID := ""
	if p.AppID != nil {
		appID = *p.AppID
	}
	switch {
	case given > 1:
		return nil, apierror.BadField("proof", "must hold one of code, loginCode and oauthCode")
	case p.Code != nil && *p.Code != "" && appID == "":
		return &proof{code: *p.Code}, nil
	case p.Code != nil && *p.Code != "":
		return nil, apierror.BadField("proof", "names an appId, which an SMS code has none of")
	case p.LoginCode != nil && *p.LoginCode != "":
		return &proof{loginCode: *p.LoginCode, appID: appID}, nil
	case p.OAuthCode != nil && *p.OAuthCode != "":
		return &proof{oauthCode: *p.OAuthCode, appID: appID}, nil
	}
	return nil, apierror.BadField("proof", "must hold a non-empty code, loginCode or oauthCode")
}

// prove applies the rule to the account u, found for req; sid is the
// request's session ("" for a wx.cloud caller without a token).
func (h *handler) prove(ctx context.Context, req *adapter.Request, u *store.User, sid string, p *proof) error {
	switch {
	case p != nil:
		return h.judge(ctx, u, p)
	case req.Caller != nil && isAccountsWeChat(u, *wechat.CallerIdentity(req.Caller)):
		return nil
	case sid != "" && h.sessions.SignedInWithin(u, sid, h.reauthWindow):
		return nil
	}
	return needProof(u, errors.New("no proof, and the session signed in longer ago than REAUTH_WINDOW"))
}

// judge checks and spends a proof sent for the account u.
func (h *handler) judge(ctx context.Context, u *store.User, p *proof) error {
	switch {
	case p.code != "" && u.HasPhone():
		return h.codes.Use(ctx, u.Phone, p.code, &u.ID)
	case p.code != "":
		return needProof(u, errors.New("an SMS proof for an account without a phone"))
	case !u.HasWeChat():
		return needProof(u, errors.New("a WeChat proof for an account without WeChat"))
	}
	wx, err := h.wechat.Identity(ctx, nil, wechat.Codes{AppID: p.appID, LoginCode: p.loginCode, LoginField: "proof", OAuthCode: p.oauthCode})
	if err != nil {
		return err
	}
	if isAccountsWeChat(u, wx.WeChatUser) {
		return nil
	}
	return needProof(u, errors.New("the proof's loginCode is another WeChat user's"))
}

// isAccountsWeChat reports whether the WeChat user wx is the account u's:
// its openid of that app, or its unionid.
func isAccountsWeChat(u *store.User, wx store.WeChatUser) bool {
	return u.Holds(store.OpenIDIdentity(wx.AppID, wx.OpenID)) || (wx.UnionID != "" && u.Holds(store.UnionIDIdentity(wx.UnionID)))
}

// needProof is REAUTH_REQUIRED with the proofs the account u can give.
func needProof(u *store.User, cause error) error {
	methods := []string{}
	if u.HasPhone() {
		methods = append(methods, "sms")
	}
	if u.HasWeChat() {
		methods = append(methods, "wechat")
	}
	return apierror.NeedReauth(cause, methods)
}
