// local: against `go run ./scripts/dev` from WeChat DevTools, whose wx.login()
// and phone-number codes the simulator cannot exchange, the package sends
// the simulator's codes instead: a fresh one each time.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const { device, sent } = require('./support/device')
const { newPhone, newUser, smsCode, sleep, TTL_MS } = require('./support/gateway')

// codesSent lists every WeChat code a device's requests carried.
function codesSent(w) {
  const out = []
  for (const e of w.log) {
    if (e.kind !== 'request') continue
    const body = e.body ? JSON.parse(e.body) : {}
    for (const k of ['code', 'loginCode', 'phoneCode']) if (typeof body[k] === 'string' && body[k].startsWith('dev:')) out.push(body[k])
    if (body.proof && body.proof.loginCode) out.push(body.proof.loginCode)
    if (e.header['X-Auth-Proof']) out.push(JSON.parse(e.header['X-Auth-Proof']).loginCode)
  }
  return out
}

test('local mode sends simulator codes of local.user and local.phone, never wx.login(), never one code twice', async () => {
  const user = newUser('loc')
  const phone = newPhone()
  // DevTools' own wx.login() would give codes of another user: local mode never asks it.
  const { w, auth } = await device({ user: newUser('devtools'), auth: { local: { user, phone } } })
  const login = await auth.wxLogin()
  assert.equal(login.isNewUser, true)
  const sameAgain = await auth.wxLogin()
  assert.equal(sameAgain.user.id, login.user.id)
  // DevTools' button gives a code of its own: the simulator's is sent instead.
  const numbered = await auth.phoneNumberLogin({ detail: { errMsg: 'getPhoneNumber:ok', code: 'a-real-devtools-code' } })
  assert.equal(numbered.user.phone, phone)
  assert.equal(numbered.user.id, login.user.id)

  const other = newPhone()
  await auth.sendCode(other)
  assert.equal((await auth.bindPhone(other, await smsCode(w, other))).user.phone, other)
  assert.equal((await auth.unbindWeChat()).user.wechatBound, false)
  await sleep(TTL_MS + 600) // an expiry first: the retry sends a loginCode of its own
  await assert.rejects(auth.bindWeChat(), (err) => err.code === 'REAUTH_REQUIRED')
  const codes = codesSent(w)
  // wx-login 2, phone-number-login 2, the proofs of bindPhone and unbindWeChat 2, bindWeChat before and after the refresh 2.
  assert.ok(codes.length >= 8, codes.join(' '))
  const binds = w.requests('profile').filter((e) => e.method === 'POST' && e.url.endsWith('/profile/wechat'))
  assert.equal(binds[0].answer.code, 'TOKEN_EXPIRED')
  assert.equal(binds[binds.length - 1].answer.code, 'REAUTH_REQUIRED')
  assert.notEqual(sent(binds[0]).loginCode, sent(binds[binds.length - 1]).loginCode, 'the retry sent a code of its own')
  assert.equal(new Set(codes).size, codes.length, `a code was sent twice: ${codes.join(' ')}`)
  assert.ok(codes.every((c) => c.startsWith(`dev:${user}:`) || c.startsWith(`dev:${phone}:`)))
  assert.equal(w.log.filter((e) => e.kind === 'login').length, 0)
})

test('local mode: the phone button failing for want of a permission still logs in; a refusal by the user is USER_DENIED', async () => {
  const phone = newPhone()
  const { auth, w } = await device({ auth: { local: { user: newUser('loc'), phone } } })
  const session = await auth.phoneNumberLogin({ detail: { errMsg: 'getPhoneNumber:fail no permission', errno: 1400001 } })
  assert.equal(session.user.phone, phone)
  await assert.rejects(auth.phoneNumberLogin({ detail: { errMsg: 'getPhoneNumber:fail user deny' } }), (err) => err.code === 'USER_DENIED')
  await assert.rejects(auth.phoneNumberLogin({ detail: {} }), (err) => err.code === 'USER_DENIED')
  assert.equal(w.requests('phone-number-login').length, 1)
})

test('local: true is the simulator\'s alice; codes of two clients never collide', async () => {
  const a = await device({ auth: { local: true } })
  const b = await device({ auth: { local: true } })
  await Promise.all([a.auth.wxLogin(), b.auth.wxLogin(), a.auth.wxLogin(), b.auth.wxLogin()])
  const codes = codesSent(a.w).concat(codesSent(b.w))
  assert.equal(codes.length, 4)
  assert.equal(new Set(codes).size, 4)
  assert.ok(codes.every((c) => c.startsWith('dev:alice:')))
  assert.equal(a.auth.user().id, b.auth.user().id)
  assert.equal(sent(a.w.requests('wx-login')[0]).code.split(':').length, 3)
})
