// transport: 'cloud': every call through wx.cloud.callFunction with the
// actions of API.md §1, the caller named by the platform (the gateway's
// /_wxcloud/ plays it, with the stand-in's user as the caller).
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const { device, sent } = require('./support/device')
const { newPhone, smsCode, sleep, TTL_MS } = require('./support/gateway')
const { createWx } = require('./support/wx')
const { createAuth } = require('../scf-auth')

const cloud = (options = {}) => device(Object.assign({}, options, { auth: Object.assign({ transport: 'cloud', baseUrl: undefined }, options.auth) }))

test('every method through wx.cloud.callFunction with its action: no WeChat code (the platform names the caller), the session\'s token once there is one', async () => {
  const { w, auth, logouts } = await cloud()
  const session = await auth.wxLogin({ nickname: '云用户' })
  assert.equal(session.user.nickname, '云用户')
  assert.equal(w.getStorageSync('scf-auth').accessToken, session.accessToken)
  assert.ok(!w.log.some((e) => e.kind === 'request' || e.kind === 'login'), 'no wx.request, no wx.login')
  assert.deepEqual(w.log[0].data, { nickname: '云用户' })

  assert.equal((await auth.profile()).user.id, session.user.id)
  assert.equal((await auth.updateProfile({ bio: '云' })).user.bio, '云')
  const phone = newPhone()
  await auth.sendCode(phone)
  assert.equal((await auth.bindPhone(phone, await smsCode(w, phone))).user.phone, phone)
  const { sessions } = await auth.sessions()
  assert.equal(sessions.length, 1)
  const { events } = await auth.security()
  assert.ok(events.some((e) => e.type === 'link'))
  assert.equal((await auth.unbindPhone()).user.phone, null)

  // (A call that met an expired token and was retried is left out.)
  const byAction = w.log.filter((e) => e.name === 'profile' && e.answer.code !== 'TOKEN_EXPIRED').map((e) => [e.data.action, !!e.data.accessToken, e.answer.code])
  assert.deepEqual(byAction, [
    ['get', true, 'OK'], ['update', true, 'OK'], ['bindPhone', true, 'OK'], ['listSessions', true, 'OK'],
    ['security', true, 'OK'], ['unbindPhone', true, 'OK'],
  ], 'the caller is the account\'s WeChat: no REAUTH_REQUIRED')

  // A second device of the same person, then the first ends its session.
  const other = await cloud({ user: w.user })
  await other.auth.wxLogin()
  const listed = (await auth.sessions()).sessions
  const theirs = listed.find((s) => !s.current)
  assert.deepEqual(await auth.revokeSession(theirs.id), { revoked: true })
  assert.deepEqual(w.log[w.log.length - 1].data.sessionId, theirs.id)
  await assert.rejects(other.auth.profile(), (err) => err.code === 'UNAUTHORIZED' && err.status === 401)
  assert.deepEqual(other.logouts, ['UNAUTHORIZED'])

  assert.deepEqual(await auth.logout(), { loggedOut: true })
  assert.equal(w.log[w.log.length - 1].name, 'token')
  assert.equal(w.log[w.log.length - 1].data.action, 'logout')
  assert.equal(auth.isLoggedIn(), false)
  assert.deepEqual(logouts, [])
})

test('cloud: phoneLogin binds the caller, phoneNumberLogin needs no loginCode, deleteAccount', async () => {
  const { w, auth } = await cloud()
  const phone = newPhone()
  await auth.sendCode(phone)
  const session = await auth.phoneLogin(phone, await smsCode(w, phone))
  assert.equal(session.user.phone, phone)
  assert.equal(session.user.wechatBound, true, 'the wx.cloud caller was bound: one account per person')
  assert.deepEqual(Object.keys(sent(w.requests('phone-login')[0])).sort(), ['code', 'phone'])

  const next = await cloud()
  const numbered = await next.auth.phoneNumberLogin({ detail: { code: `dev:${newPhone()}:1` } })
  assert.equal(numbered.user.wechatBound, true)
  assert.deepEqual(Object.keys(sent(next.w.requests('phone-number-login')[0])), ['phoneCode'])
  assert.deepEqual(await next.auth.deleteAccount(), { deleted: true })
  assert.equal(next.auth.isLoggedIn(), false)
})

test('cloud: five calls meeting TOKEN_EXPIRED share one refresh action', async () => {
  const { w, auth, logouts } = await cloud()
  await auth.wxLogin()
  await sleep(TTL_MS + 600)
  await Promise.all([auth.profile(), auth.profile(), auth.sessions(), auth.security(), auth.profile()])
  const refreshes = w.log.filter((e) => e.name === 'token' && e.data.action === 'refresh')
  assert.equal(refreshes.length, 1)
  assert.equal(refreshes[0].answer.code, 'OK')
  assert.deepEqual(logouts, [])
})

test('cloud: a failed callFunction is NETWORK_ERROR with its errCode', async () => {
  const { w, auth } = await cloud()
  w.offline = true
  await assert.rejects(auth.wxLogin(), (err) => err.code === 'NETWORK_ERROR' && /网络/.test(err.message) && err.data.errCode === -1)
  w.offline = false
  const fresh = createWx({ gateway: (await device()).base }) // wx.cloud.init never called
  await assert.rejects(createAuth({ transport: 'cloud', wx: fresh }).wxLogin(), (err) => err.code === 'NETWORK_ERROR' && /init/.test(err.data.errMsg))
})
