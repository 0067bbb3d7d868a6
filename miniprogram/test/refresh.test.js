// Expiry and refresh, against a gateway whose access tokens live three
// seconds and where a spent refresh token sent again revokes its session
// at once (REFRESH_REUSE_GRACE=0s).
'use strict'

const { describe, test } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { device, bearer, sent } = require('./support/device')
const { sleep, TTL_MS, newPhone, smsCode } = require('./support/gateway')
const { createAuth } = require('../scf-auth')

const STORAGE_KEY = 'scf-auth'
const expire = () => sleep(TTL_MS + 600)

function post(base, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = ''
      res.on('data', (c) => { text += c })
      res.on('end', () => resolve(JSON.parse(text)))
    })
    req.on('error', reject)
    req.end(JSON.stringify(body))
  })
}

// The tests wait for expiries and cooldowns: each on its own device and
// account, they wait at the same time.
describe('expiry and refresh', { concurrency: true }, () => {
  test('five calls meeting TOKEN_EXPIRED at once share one refresh, its pair stored before any retry; a second expiry later is one more refresh, no logout', async () => {
    const { w, auth, logouts } = await device()
    const first = await auth.wxLogin()
    await expire()

    const answers = await Promise.all([
      auth.profile(),
      auth.sessions(),
      auth.security(),
      auth.updateProfile({ bio: '过期之后' }),
      auth.profile(),
    ])
    assert.equal(answers[0].user.id, first.user.id)
    assert.equal(answers[1].sessions.length, 1)
    assert.ok(Array.isArray(answers[2].events))
    assert.equal(answers[3].user.bio, '过期之后')
    assert.equal(answers[4].user.id, first.user.id)

    const refreshes = w.requests('token').filter((e) => e.url.endsWith('/token/refresh'))
    assert.equal(refreshes.length, 1, 'one /token/refresh for five calls')
    assert.deepEqual(sent(refreshes[0]), { refreshToken: first.refreshToken })
    const stored = w.getStorageSync(STORAGE_KEY)
    assert.notEqual(stored.accessToken, first.accessToken)
    assert.notEqual(stored.refreshToken, first.refreshToken)
    assert.equal(stored.refreshToken, refreshes[0].answer.data.refreshToken)

    const calls = w.requests('profile')
    const expired = calls.filter((e) => e.answer && e.answer.code === 'TOKEN_EXPIRED')
    const retried = calls.filter((e) => bearer(e) === stored.accessToken)
    assert.equal(expired.length, 5, 'all five met the expiry')
    assert.equal(retried.length, 5, 'each retried once, with the new token')
    for (const e of retried) {
      assert.equal(e.stored[STORAGE_KEY].accessToken, stored.accessToken, 'the new pair was stored before the retry left')
      assert.equal(e.answer.code, 'OK')
    }

    // Later the new token expires too: the stored refresh token renews it
    // (had the new pair not been stored, the spent one would revoke the
    // session here).
    await expire()
    const { user } = await auth.profile()
    assert.equal(user.id, first.user.id)
    const all = w.requests('token').filter((e) => e.url.endsWith('/token/refresh'))
    assert.equal(all.length, 2)
    assert.equal(sent(all[1]).refreshToken, stored.refreshToken)
    assert.equal(all[1].answer.code, 'OK')
    assert.deepEqual(logouts, [])
    assert.equal(auth.isLoggedIn(), true)
  })

  test('REFRESH_TOKEN_INVALID clears the stored session and calls onLogout once, for every call that waited', async () => {
    const { w, auth, logouts, base } = await device()
    const session = await auth.wxLogin()
    // Someone else spends the stored refresh token (a copy of it, stolen or
    // replayed): the next refresh from here is a reuse, and ends the session.
    assert.equal((await post(base, '/token/refresh', { refreshToken: session.refreshToken })).code, 'OK')
    await expire()

    const results = await Promise.allSettled([auth.profile(), auth.sessions(), auth.profile(), auth.security(), auth.profile()])
    for (const r of results) {
      assert.equal(r.status, 'rejected')
      assert.equal(r.reason.code, 'REFRESH_TOKEN_INVALID')
      assert.equal(r.reason.status, 401)
      assert.equal(r.reason.message, '登录已失效，请重新登录')
    }
    assert.deepEqual(logouts, ['REFRESH_TOKEN_INVALID'])
    assert.equal(w.requests('token').length, 1, 'one refresh tried')
    assert.equal(w.getStorageSync(STORAGE_KEY), '')
    assert.equal(auth.isLoggedIn(), false)
    assert.equal(auth.user(), null)

    // A later call has no session to end: no second onLogout.
    await assert.rejects(auth.profile(), (err) => err.code === 'UNAUTHORIZED')
    assert.deepEqual(logouts, ['REFRESH_TOKEN_INVALID'])
  })

  test('ACCOUNT_DISABLED from a refresh ends the session like REFRESH_TOKEN_INVALID', async () => {
    // The gateway cannot disable an account without an operator, so the
    // refresh's answer is the one an operator's disable brings, from a stand-in
    // server for the token function; the rest is the real gateway.
    const { w, auth, logouts, base } = await device()
    const disabled = http.createServer((req, res) => {
      res.writeHead(403, { 'content-type': 'application/json; charset=utf-8' })
      res.end(JSON.stringify({ code: 'ACCOUNT_DISABLED', message: '账号已被停用', data: null, requestId: 'x' }))
    })
    await new Promise((resolve) => disabled.listen(0, '127.0.0.1', resolve))
    const tokenURL = `http://127.0.0.1:${disabled.address().port}`
    w.origins[tokenURL] = tokenURL
    try {
      const urls = {}
      for (const fn of ['wx-login', 'profile']) urls[fn] = `${base}/${fn}`
      urls.token = tokenURL
      const client = createAuth({ urls, wx: w, onLogout: (r) => logouts.push(r) })
      await client.wxLogin()
      await expire()
      const results = await Promise.allSettled([client.profile(), client.profile()])
      for (const r of results) assert.equal(r.reason.code, 'ACCOUNT_DISABLED')
      assert.deepEqual(logouts, ['ACCOUNT_DISABLED'])
      assert.equal(client.isLoggedIn(), false)
      assert.equal(auth.isLoggedIn(), false, 'one storage, one session')
    } finally {
      disabled.close()
    }
  })

  test('a network failure during the refresh keeps the session; the next call refreshes', async () => {
    const { w, auth, logouts } = await device()
    await auth.wxLogin()
    await expire()
    const expiredCall = auth.profile()
    // The profile call goes out and meets the expiry; the refresh finds the
    // network gone.
    const realRequest = w.request
    w.request = (o) => {
      if (o.url.endsWith('/token/refresh')) w.offline = true
      return realRequest(o)
    }
    await assert.rejects(expiredCall, (err) => err.code === 'NETWORK_ERROR' && /网络/.test(err.message))
    w.request = realRequest
    w.offline = false
    assert.equal(auth.isLoggedIn(), true)
    assert.deepEqual(logouts, [])
    assert.ok((await auth.profile()).user)
  })

  test('two clients on one storage (two pages with their own createAuth) share one refresh', async () => {
    const { w, auth, config } = await device()
    const other = createAuth(config)
    await auth.wxLogin()
    await expire()
    await Promise.all([auth.profile(), other.profile(), auth.sessions(), other.security()])
    assert.equal(w.requests('token').length, 1)
  })

  test('request refreshes first when the stored token has expired, and once more on a 401 TOKEN_EXPIRED', async () => {
    const { w, auth, base } = await device()
    await auth.wxLogin()
    await expire()
    const res = await auth.request({ url: `${base}/profile/sessions` })
    assert.equal(res.statusCode, 200)
    assert.equal(w.requests('token').length, 1)
    assert.equal(w.requests('profile').length, 1, 'no call with the expired token')

    // The stored expiry can be wrong (the device's clock jumped): the
    // answer's TOKEN_EXPIRED still refreshes, once.
    await expire()
    const stored = w.getStorageSync(STORAGE_KEY)
    stored.expiresAt = Date.now() + 3600e3
    w.setStorageSync(STORAGE_KEY, stored)
    const again = await auth.request({ url: `${base}/profile` })
    assert.equal(again.statusCode, 200)
    assert.equal(w.requests('token').length, 2)
  })

  test('an identity change meeting the expiry refreshes, proves itself with a fresh code, and changes once', async () => {
    const { w, auth } = await device()
    await auth.wxLogin()
    const phone = newPhone()
    await auth.sendCode(phone)
    const code = await smsCode(w, phone)
    await expire()
    assert.equal((await auth.bindPhone(phone, code)).user.phone, phone)
    const proofs = w.requests('profile').map((e) => sent(e).proof).filter(Boolean).map((p) => p.loginCode)
    assert.equal(new Set(proofs).size, proofs.length, 'no proof sent twice')
    assert.equal(w.requests('token').length, 1)
  })
})
