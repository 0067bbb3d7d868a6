// Failures: the network down, answers that are not the contract's JSON,
// the phone-number button declined; and the stand-in's own rules, which the
// other tests rely on.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { device } = require('./support/device')
const { gateway, newPhone } = require('./support/gateway')
const { createWx } = require('./support/wx')
const { createAuth, AuthError } = require('../scf-auth')

function isNetworkError(err, status) {
  assert.ok(err instanceof AuthError)
  assert.ok(err instanceof Error)
  assert.equal(err.code, 'NETWORK_ERROR')
  assert.match(err.message, /[\u4e00-\u9fff]/, 'a Chinese sentence for wx.showToast, never undefined')
  assert.equal(err.status, status)
  return true
}

test('network down: every call rejects NETWORK_ERROR with a Chinese message; the session stays; back online it works', async () => {
  const { w, auth, logouts } = await device()
  await auth.wxLogin()
  w.offline = true
  for (const call of [() => auth.profile(), () => auth.sendCode(newPhone()), () => auth.wxLogin(),
    () => auth.bindPhone(newPhone(), '123456'), () => auth.request({ url: 'https://api.example.com/orders' })]) {
    await assert.rejects(call(), (err) => isNetworkError(err, 0) && /request:fail|login:fail/.test(err.data.errMsg))
  }
  assert.equal(auth.isLoggedIn(), true, 'a network failure ends no session')
  assert.deepEqual(logouts, [])
  w.offline = false
  assert.ok((await auth.profile()).user)
})

test('logout while offline forgets the session here all the same, and says the network failed', async () => {
  const { w, auth } = await device()
  await auth.wxLogin()
  w.offline = true
  await assert.rejects(auth.logout(), (err) => isNetworkError(err, 0))
  assert.equal(auth.isLoggedIn(), false)
})

test('an answer that is not the contract\'s JSON (a proxy\'s error page) is NETWORK_ERROR with its status', async () => {
  const proxy = http.createServer((req, res) => {
    if (req.url.startsWith('/empty')) {
      res.writeHead(200, { 'content-type': 'application/json' })
      return res.end('')
    }
    res.writeHead(502, { 'content-type': 'text/html' })
    res.end('<html><body><h1>502 Bad Gateway</h1></body></html>')
  })
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${proxy.address().port}`
  try {
    const w = createWx({ gateway: base })
    const auth = createAuth({ baseUrl: base, wx: w })
    await assert.rejects(auth.wxLogin(), (err) => isNetworkError(err, 502))
    const empty = createAuth({ baseUrl: `${base}/empty`, wx: w })
    await assert.rejects(empty.sendCode('13800138000'), (err) => isNetworkError(err, 200))
  } finally {
    proxy.close()
  }
})

test('an unknown host (a wrong baseUrl) is NETWORK_ERROR too', async () => {
  const g = await gateway()
  const w = createWx({ gateway: g.base })
  const auth = createAuth({ baseUrl: 'https://nowhere.example.com', wx: w })
  await assert.rejects(auth.wxLogin(), (err) => isNetworkError(err, 0))
})

test('the phone-number button declined: USER_DENIED, nothing sent', async () => {
  const { w, auth } = await device()
  const declined = [
    { type: 'getphonenumber', detail: { errMsg: 'getPhoneNumber:fail user deny' } }, // iOS, DevTools
    { type: 'getphonenumber', detail: { errMsg: 'getPhoneNumber:fail:user deny' } }, // Android
    { type: 'getphonenumber', detail: { errMsg: 'getPhoneNumber:fail no permission', errno: 1400001 } },
    { type: 'getphonenumber', detail: {} },
    undefined,
  ]
  for (const e of declined) {
    await assert.rejects(auth.phoneNumberLogin(e), (err) => {
      assert.ok(err instanceof AuthError)
      assert.equal(err.code, 'USER_DENIED')
      assert.equal(err.message, '未获得手机号授权')
      assert.equal(err.data.errMsg, (e && e.detail.errMsg) || '')
      return true
    })
  }
  assert.equal(w.log.length, 0, 'no wx.login, no request')
  assert.equal(auth.isLoggedIn(), false)
})

test('createAuth refuses a configuration it cannot work with', () => {
  assert.throws(() => createAuth({}), /baseUrl/)
  assert.throws(() => createAuth({ baseUrl: 'https://a.example.com', transport: 'tcp' }), /transport/)
  assert.doesNotThrow(() => createAuth({ transport: 'cloud' }))
})

test('a function missing from urls rejects naming it', async () => {
  const g = await gateway()
  const auth = createAuth({ urls: { 'wx-login': `${g.base}/wx-login` }, wx: createWx({ gateway: g.base }) })
  await assert.rejects(auth.sendCode('13800138000'), /send-sms/)
})

test('the stand-in: any HTTP status is a success, PATCH is not a method, GET data is a query string', async () => {
  const g = await gateway()
  const w = createWx({ gateway: g.base })
  const call = (o) => new Promise((resolve) => w.request(Object.assign({ success: (r) => resolve(['success', r]), fail: (r) => resolve(['fail', r]) }, o)))
  const [kind, res] = await call({ url: `${g.base}/profile` })
  assert.equal(kind, 'success')
  assert.equal(res.statusCode, 401)
  assert.equal(res.data.code, 'UNAUTHORIZED')
  const [patched, failure] = await call({ url: `${g.base}/profile`, method: 'PATCH', data: { nickname: 'x' } })
  assert.equal(patched, 'fail')
  assert.match(failure.errMsg, /^request:fail parameter error/)
  await call({ url: `${g.base}/nothing`, data: { a: '1 2' } })
  assert.equal(w.log[w.log.length - 1].url, `${g.base}/nothing?a=1%202`)
  assert.equal(w.request({ url: `${g.base}/x`, success() {} }).constructor, Object, 'a RequestTask, not a Promise')
  assert.equal(w.getStorageSync('never-set'), '')
  const login = await w.login()
  assert.match(login.code, new RegExp(`^dev:${w.user}:`))
})
