// Every method of the package over wx.request, against the local gateway.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const { device, bearer, sent } = require('./support/device')
const { smsCode, newPhone, sleep } = require('./support/gateway')
const { AuthError, createAuth } = require('../scf-auth')

const STORAGE_KEY = 'scf-auth'

// answered drops the calls that met an expired token (and were retried):
// a flow that outlives a token (2 to 3 s here) has some, anywhere.
const answered = (entries) => entries.filter((e) => !e.answer || e.answer.code !== 'TOKEN_EXPIRED')

// rejects awaits p and returns the AuthError it rejected with.
async function rejects(p, code) {
  try {
    await p
  } catch (err) {
    assert.ok(err instanceof AuthError, `not an AuthError: ${err && err.stack}`)
    assert.equal(err.code, code, `${err.code}: ${err.message} ${JSON.stringify(err.data)}`)
    assert.match(err.message, /[\u4e00-\u9fff]/, 'the message is a Chinese sentence')
    return err
  }
  assert.fail(`resolved, want ${code}`)
}

function assertStored(w, session) {
  const stored = w.getStorageSync(STORAGE_KEY)
  assert.equal(stored.accessToken, session.accessToken)
  assert.equal(stored.refreshToken, session.refreshToken)
  assert.deepEqual(stored.user, session.user)
}

test('wxLogin sends a wx.login() code and the sign-up profile, and stores the Session', async () => {
  const { w, auth } = await device()
  assert.equal(auth.isLoggedIn(), false)
  assert.equal(auth.user(), null)
  assert.equal(auth.accessToken(), null)
  const session = await auth.wxLogin({ nickname: '小明', avatarUrl: 'https://example.com/a.png' })
  assert.equal(session.isNewUser, true)
  assert.equal(session.tokenType, 'Bearer')
  assert.equal(session.user.nickname, '小明')
  assertStored(w, session)
  assert.equal(auth.isLoggedIn(), true)
  assert.deepEqual(auth.user(), session.user)
  assert.equal(auth.accessToken(), session.accessToken)
  const [req] = w.requests('wx-login')
  assert.equal(req.method, 'POST')
  const body = sent(req)
  assert.equal(body.code, w.log.find((e) => e.kind === 'login').code)
  assert.deepEqual(Object.keys(body).sort(), ['avatarUrl', 'code', 'nickname'])

  const again = await auth.wxLogin()
  assert.equal(again.isNewUser, false)
  assert.equal(again.user.id, session.user.id)
  assertStored(w, again)
})

test('phoneNumberLogin sends the button\'s code with a wx.login() code, and stores the Session', async () => {
  const { w, auth } = await device()
  const phone = newPhone()
  const session = await auth.phoneNumberLogin({ type: 'getphonenumber', detail: { errMsg: 'getPhoneNumber:ok', code: `dev:${phone}:1` } })
  assert.equal(session.user.phone, phone)
  assert.equal(session.user.wechatBound, true)
  assertStored(w, session)
  const body = sent(w.requests('phone-number-login')[0])
  assert.equal(body.phoneCode, `dev:${phone}:1`)
  assert.match(body.loginCode, new RegExp(`^dev:${w.user}:`))
})

test('sendCode and phoneLogin: the SMS code logs in, a wx.login() code rides along, the Session is stored', async () => {
  const { w, auth } = await device()
  const phone = newPhone()
  const sentAnswer = await auth.sendCode(phone)
  assert.equal(typeof sentAnswer.cooldown, 'number')
  assert.equal(typeof sentAnswer.expiresIn, 'number')
  const wrong = await rejects(auth.phoneLogin(phone, '000000'), 'CODE_INVALID')
  assert.equal(wrong.status, 401)
  assert.equal(wrong.message, '验证码错误或已失效')
  assert.equal(typeof wrong.data.attemptsLeft, 'number')
  assert.equal(auth.isLoggedIn(), false)

  const session = await auth.phoneLogin(phone, await smsCode(w, phone))
  assert.equal(session.user.phone, phone)
  assertStored(w, session)
  const logins = w.requests('phone-login')
  const loginCodes = logins.map((e) => sent(e).loginCode)
  assert.ok(loginCodes.every((c) => c && c.startsWith(`dev:${w.user}:`)), 'every phone-login sends a wx.login() code')
  assert.equal(new Set(loginCodes).size, loginCodes.length, 'a fresh wx.login() code each time')

  // The same person on WeChat afterwards: one account, not two.
  const wechat = await auth.wxLogin()
  assert.equal(wechat.user.id, session.user.id)
})

test('profile, and updateProfile with PUT (wx.request knows no PATCH)', async () => {
  const { w, auth } = await device()
  const session = await auth.wxLogin()
  const { user } = await auth.profile()
  assert.equal(user.id, session.user.id)
  const updated = await auth.updateProfile({ nickname: '新名字', gender: 1, birthday: '1990-01-31', bio: '你好' })
  assert.equal(updated.user.nickname, '新名字')
  assert.equal(updated.user.gender, 1)
  assert.equal(auth.user().nickname, '新名字', 'the stored user follows the answer')
  const put = w.requests('profile').find((e) => e.method === 'PUT')
  assert.ok(put, 'updateProfile sends PUT')
  assert.deepEqual(sent(put), { nickname: '新名字', gender: 1, birthday: '1990-01-31', bio: '你好' })
  assert.equal(bearer(put), auth.accessToken())
  assert.ok(!w.log.some((e) => e.method === 'PATCH' || e.refused), 'nothing the stand-in refuses was sent')

  const bad = await rejects(auth.updateProfile({ gender: 7 }), 'INVALID_REQUEST')
  assert.equal(bad.status, 400)
  assert.equal(bad.data.field, 'gender')
})

test('bindPhone, unbindWeChat, bindWeChat and unbindPhone: a silent wx.login() proof when the account has WeChat, an SMS proof when it has not', async () => {
  const { w, auth, captchas, logouts } = await device()
  await auth.wxLogin()
  const phone = newPhone()
  await auth.sendCode(phone)
  const bound = await auth.bindPhone(phone, await smsCode(w, phone))
  assert.equal(bound.user.phone, phone)
  assert.equal(auth.user().phone, phone)
  const binds = answered(w.requests('profile').filter((e) => e.url.endsWith('/profile/phone')))
  assert.equal(binds.length, 2, 'REAUTH_REQUIRED, then once more with a proof')
  assert.equal(binds[0].answer.code, 'REAUTH_REQUIRED')
  assert.match(sent(binds[1]).proof.loginCode, new RegExp(`^dev:${w.user}:`))

  const unlinked = await auth.unbindWeChat()
  assert.equal(unlinked.user.wechatBound, false)
  const unbinds = answered(w.requests('profile').filter((e) => e.method === 'DELETE' && e.url.endsWith('/profile/wechat')))
  assert.equal(unbinds.length, 2)
  assert.equal(unbinds[1].body, undefined, 'a DELETE carries its proof in a header, not a body')
  assert.match(JSON.parse(unbinds[1].header['X-Auth-Proof']).loginCode, new RegExp(`^dev:${w.user}:`))

  // Now an SMS-only account: no silent proof, the page sends an SMS code.
  const needs = await rejects(auth.bindWeChat(), 'REAUTH_REQUIRED')
  assert.deepEqual(needs.data.methods, ['sms'])
  assert.equal(needs.status, 403)
  await sleep(1100) // SMS_COOLDOWN
  await auth.sendCode(phone) // a second send to the phone this hour: the captcha
  assert.equal(captchas.length, 1)
  const relinked = await auth.bindWeChat({ proof: { code: await smsCode(w, phone) } })
  assert.equal(relinked.user.wechatBound, true)

  const last = await auth.unbindPhone()
  assert.equal(last.user.phone, null)
  assert.equal(auth.user().phone, null)
  await rejects(auth.unbindWeChat(), 'LAST_IDENTITY')
  assert.equal(auth.isLoggedIn(), true)
  assert.deepEqual(logouts, [])
})

test('sessions, revokeSession and security; a revoked session is cleared and onLogout told once', async () => {
  const a = await device()
  const b = await device({ user: a.w.user }) // the same person on a second phone
  const first = await a.auth.wxLogin()
  const second = await b.auth.wxLogin()
  assert.equal(second.user.id, first.user.id)
  const { sessions } = await a.auth.sessions()
  assert.equal(sessions.length, 2)
  const mine = sessions.find((s) => s.current)
  const other = sessions.find((s) => !s.current)
  assert.ok(mine && other)
  assert.equal(mine.method, 'wechat')
  assert.deepEqual(await a.auth.revokeSession(other.id), { revoked: true })
  assert.ok(a.w.requests('profile').some((e) => e.method === 'DELETE' && e.url.endsWith(`/profile/sessions/${other.id}`)))

  const results = await Promise.allSettled([b.auth.profile(), b.auth.sessions(), b.auth.security()])
  for (const r of results) {
    assert.equal(r.status, 'rejected')
    assert.equal(r.reason.code, 'UNAUTHORIZED')
  }
  assert.deepEqual(b.logouts, ['UNAUTHORIZED'], 'onLogout once for three calls')
  assert.equal(b.auth.isLoggedIn(), false)
  assert.equal(b.w.getStorageSync(STORAGE_KEY), '')

  const { events } = await a.auth.security()
  assert.ok(events.some((e) => e.type === 'session-revoked'), JSON.stringify(events))
  assert.deepEqual(a.logouts, [])
})

test('logout ends the session on the server and forgets it here; logout({all}) ends the other devices too', async () => {
  const a = await device()
  const b = await device({ user: a.w.user })
  await a.auth.wxLogin()
  await b.auth.wxLogin()
  const token = a.auth.accessToken()
  assert.deepEqual(await a.auth.logout(), { loggedOut: true })
  assert.equal(a.auth.isLoggedIn(), false)
  assert.equal(a.w.getStorageSync(STORAGE_KEY), '')
  assert.deepEqual(a.logouts, [], 'a logout the user asked for is no surprise')
  assert.equal(bearer(a.w.requests('token').pop()), token)
  assert.deepEqual(await a.auth.logout(), { loggedOut: true }, 'logging out twice is fine')

  await b.auth.profile()
  await a.auth.wxLogin()
  assert.deepEqual(await a.auth.logout({ all: true }), { loggedOut: true })
  assert.deepEqual(sent(a.w.requests('token').pop()), { all: true })
  const err = await rejects(b.auth.profile(), 'UNAUTHORIZED')
  assert.equal(err.status, 401)
  assert.deepEqual(b.logouts, ['UNAUTHORIZED'])
})

test('deleteAccount: a silent proof in the header, then the session is gone', async () => {
  const { w, auth, logouts } = await device()
  await auth.wxLogin()
  assert.deepEqual(await auth.deleteAccount(), { deleted: true })
  const deletes = answered(w.requests('profile').filter((e) => e.method === 'DELETE'))
  assert.equal(deletes.length, 2)
  assert.ok(JSON.parse(deletes[1].header['X-Auth-Proof']).loginCode)
  assert.equal(auth.isLoggedIn(), false)
  assert.deepEqual(logouts, [])
  const fresh = await auth.wxLogin()
  assert.equal(fresh.isNewUser, true, 'the WeChat identity is free again')
})

test('request: a wx.request to the team\'s own API with the access token', async () => {
  const { w, auth, base } = await device()
  const anonymous = await auth.request({ url: `${base}/profile` })
  assert.equal(anonymous.statusCode, 401, 'any status is an answer, as with wx.request')
  await auth.wxLogin()
  const res = await auth.request({ url: `${base}/profile`, header: { 'X-Trace': '1' } })
  assert.equal(res.statusCode, 200)
  assert.equal(res.data.data.user.id, auth.user().id)
  const last = w.log[w.log.length - 1]
  assert.equal(bearer(last), auth.accessToken())
  assert.equal(last.header['X-Trace'], '1')
})

test('urls: one function URL each, with the routes below each function', async () => {
  const g = await device()
  const urls = {}
  for (const fn of ['send-sms', 'phone-login', 'wx-login', 'phone-number-login', 'profile', 'token']) urls[fn] = `${g.base}/${fn}/`
  const { w, auth } = await device({ auth: { baseUrl: undefined, urls } })
  await auth.wxLogin()
  const phone = newPhone()
  await auth.sendCode(phone)
  assert.equal((await auth.bindPhone(phone, await smsCode(w, phone))).user.phone, phone)
  assert.ok(w.requests('profile').some((e) => e.url === `${g.base}/profile/phone`))
  assert.equal((await auth.sessions()).sessions.length, 1)
  await auth.logout()
  assert.ok(w.requests('token').some((e) => e.url === `${g.base}/token/logout`))
})

test('appId is sent on every WeChat login and link when it is configured, and only then', async () => {
  const plain = await device()
  await plain.auth.wxLogin()
  assert.ok(!('appId' in sent(plain.w.requests('wx-login')[0])))

  const { w, auth } = await device({ auth: { appId: 'wxdev0000000000000' } })
  const phone = newPhone()
  const outcomes = await Promise.allSettled([
    auth.wxLogin(),
    auth.phoneNumberLogin({ detail: { code: `dev:${phone}:1` } }),
    auth.phoneLogin(newPhone(), '123456'),
  ])
  assert.equal(outcomes[0].status, 'fulfilled', String(outcomes[0].reason && outcomes[0].reason.code))
  assert.equal(outcomes[1].status, 'fulfilled', String(outcomes[1].reason && outcomes[1].reason.code))
  assert.equal(outcomes[2].reason.code, 'CODE_INVALID')
  for (const fn of ['wx-login', 'phone-number-login', 'phone-login']) {
    assert.equal(sent(w.requests(fn)[0]).appId, 'wxdev0000000000000', fn)
  }

  // The brand's second mini-program (the gateway plays it): the same
  // person's login there lands in the account, which then lists both apps.
  const second = await device({ auth: { appId: 'wxdev0000000000002' } })
  const first = createAuth(Object.assign({}, second.config, { appId: undefined, storageKey: 'first-app' }))
  const a = await first.wxLogin()
  const b = await second.auth.wxLogin()
  assert.equal(b.user.id, a.user.id)
  assert.deepEqual(b.user.wechatApps.slice().sort(), ['wxdev0000000000000', 'wxdev0000000000002'])

  // A link: the same device's session, through a client that names the app.
  const linker = createAuth(Object.assign({}, plain.config, { appId: 'wxdev0000000000000' }))
  await linker.bindWeChat().catch((err) => assert.ok(['INVALID_REQUEST', 'ACCOUNT_CONFLICT'].indexOf(err.code) >= 0, err.code))
  const link = plain.w.requests('profile').find((e) => e.url.endsWith('/profile/wechat'))
  assert.equal(sent(link).appId, 'wxdev0000000000000')
})
