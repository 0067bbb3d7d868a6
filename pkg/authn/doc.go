// Package authn authenticates the callers of the team's own Go SCF
// functions (orders, posts, payments) with the login these functions
// provide, from the event as the function receives it: an HTTP request
// through a function URL or API Gateway, or a direct invocation from
// wx.cloud.callFunction or the SCF Invoke API.
//
// A caller is authenticated by its access token (the Bearer token of an
// HTTP request, the accessToken member of a direct invocation), or, with
// no token, as the wx.cloud caller the WeChat platform vouches for in a
// direct invocation from the login's mini-program: read, as the login's
// functions read it (package adapter), from that invocation's context
// (WX_APPID, WX_OPENID, WX_UNIONID) or the older userInfo member, never
// from the process environment, where an earlier caller outlives its call. Authenticate checks the
// token's signature and expiry and costs no database round trip;
// AuthenticateSession also checks that the token's session is still live
// and its account enabled (a logout, a refresh-token reuse, a deletion or
// an operator's disable take effect at once) in one round trip, the read
// of the account, and finds a wx.cloud caller's account; it reads the
// login's database through Options.Accounts (package authnstore).
//
// Tokens are verified with the keys the login publishes at GET
// /token/jwks (ES256 or EdDSA: no secret leaves the login), fetched at
// first need and kept for KeysMaxAge; a token naming a kid the keys lack
// makes them fetched again, at most once per RefetchFloor, so a key the
// login just added verifies at once (or once the floor since the last
// fetch has passed: the README's rotation publishes a key minutes before
// it signs) and a flood of made-up kids costs the login one request per
// floor. The keys are public, so keeping them in
// one instance's memory risks nothing: each instance fetches its own. A
// JWK Set given in Options, or the login's JWT_SECRET for a login that
// signs with HS256, verifies without fetching.
//
// Every error is an *apierror.Error carrying the contract's code:
// UNAUTHORIZED (no, forged or ended token), TOKEN_EXPIRED (refresh and
// retry), ACCOUNT_DISABLED, INVALID_REQUEST (an event that is not one),
// SERVICE_UNAVAILABLE (keys or database out of reach: not the caller's
// fault). Its Status() is the HTTP status and Message() the sentence to
// show the user, as the login's own functions answer them.
//
// The package brings the JWT library and scf-go-lib's context into a
// function (about 0.5 MB); package authnstore adds the MongoDB driver
// (about 5 MB) for the functions that check sessions. Neither brings the
// SMS or captcha SDKs, nor the embedded database of the tests.
package authn
