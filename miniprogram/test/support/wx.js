// A stand-in for the mini-program's wx object, as WeChat documents it, for
// tests that run the package and pages in Node against the local gateway:
//
//   - wx.request: succeeds for any HTTP status and fails only when nothing
//     was answered (network down, unknown host, timeout, abort); knows the
//     methods OPTIONS, GET, HEAD, POST, PUT, DELETE, TRACE and CONNECT and no
//     others (no PATCH); sends GET data as a query string and other data as
//     JSON (content-type application/json by default) or a form; parses the
//     answer with JSON.parse for dataType json and keeps the text when that
//     fails; sets the Referer WeChat sets, which the page cannot; returns a
//     RequestTask and no Promise.
//   - wx.login: a code of the local WeChat simulator for this device's user
//     ("dev:<user>:<unique>"), each good once; callback or Promise style.
//   - storage: getStorageSync answers "" for a key never set; values are
//     stored as JSON, as WeChat keeps them.
//   - wx.cloud.callFunction: after wx.cloud.init, the gateway's
//     /_wxcloud/<name>, which plays the platform with this device's user as
//     the caller; result is what the function returned; fails on network
//     errors and unknown functions.
//   - UI calls (showToast, showLoading, navigateTo...) are recorded in ui.
//
// Every request and its answer is recorded in log, so tests can see what the
// package sent, and read the request id of an SMS send.
'use strict'

const http = require('node:http')
const { URL } = require('node:url')

const METHODS = ['OPTIONS', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'CONNECT']
const DEV_APP_ID = 'wxdev0000000000000'

let devices = 0

// createWx returns the wx object of one device. gateway is the local
// gateway's origin; hosts maps other origins (https://auth.example.com) to
// it, as DNS would; user is the device's WeChat user in the simulator.
function createWx({ gateway, hosts = {}, user, appId = DEV_APP_ID } = {}) {
  devices += 1
  const device = devices
  let codes = 0
  let cloudReady = false
  const storage = new Map()
  let pending = 0
  const w = {
    user: user || `dev${process.pid}x${device}`,
    appId,
    offline: false,
    log: [],
    ui: [],
    origins: Object.assign({}, hosts, gateway ? { [new URL(gateway).origin]: gateway } : {}),
  }

  function done(o, ok, res) {
    pending += 1
    setImmediate(() => {
      pending -= 1
      try {
        if (ok && typeof o.success === 'function') o.success(res)
        if (!ok && typeof o.fail === 'function') o.fail(res)
      } finally {
        if (typeof o.complete === 'function') o.complete(res)
      }
    })
  }

  // promised runs an async API in callback or Promise style, as WeChat
  // does for APIs that return nothing else.
  function promised(o, run) {
    if (o && (o.success || o.fail || o.complete)) {
      run((ok, res) => done(o, ok, res))
      return undefined
    }
    pending += 1
    return new Promise((resolve, reject) => run((ok, res) => setImmediate(() => { pending -= 1; (ok ? resolve : reject)(res) })))
  }

  // send is one HTTP exchange with the gateway: the answer's status, headers
  // and text, or an error when there is none.
  function send(method, target, headers, body, timeout) {
    pending += 1
    let over = false
    const settled = (f) => (v) => { if (!over) { over = true; pending -= 1; f(v) } }
    return new Promise((res0, rej0) => {
      const resolve = settled(res0)
      const reject = settled(rej0)
      if (w.offline) return reject(new Error('net::ERR_INTERNET_DISCONNECTED'))
      const u = new URL(target)
      const base = w.origins[u.origin]
      if (!base) return reject(new Error('net::ERR_NAME_NOT_RESOLVED'))
      const b = new URL(base)
      const path = b.pathname.replace(/\/$/, '') + u.pathname + u.search
      const req = http.request({ host: b.hostname, port: b.port, method, path, headers }, (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      })
      req.on('error', reject)
      if (timeout) req.setTimeout(timeout, () => req.destroy(new Error('timeout')))
      if (body !== undefined) req.write(body)
      req.end()
    })
  }

  function headerOf(header, name) {
    for (const k of Object.keys(header)) if (k.toLowerCase() === name) return header[k]
    return undefined
  }

  function query(data) {
    return Object.keys(data).map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(data[k])}`).join('&')
  }

  w.request = function request(o) {
    const task = { aborted: false, abort() { task.aborted = true }, onHeadersReceived() {}, offHeadersReceived() {} }
    const method = o.method === undefined ? 'GET' : o.method
    if (typeof o.url !== 'string' || METHODS.indexOf(method) < 0) {
      const why = typeof o.url !== 'string' ? 'parameter.url should be String' : `parameter.method should be one of ${METHODS.join(', ')}`
      w.log.push({ kind: 'request', method, url: o.url, refused: why })
      done(o, false, { errMsg: `request:fail parameter error: ${why}`, errno: 1001 })
      return task
    }
    const header = {}
    for (const k of Object.keys(o.header || {})) if (k.toLowerCase() !== 'referer') header[k] = String(o.header[k])
    if (headerOf(header, 'content-type') === undefined) header['content-type'] = 'application/json'
    header.Referer = `https://servicewechat.com/${w.appId}/devtools/page-frame.html`
    let target = o.url
    let body
    if (o.data !== undefined && o.data !== null) {
      if (method === 'GET') {
        const q = typeof o.data === 'string' ? o.data : query(o.data)
        if (q) target += (target.indexOf('?') < 0 ? '?' : '&') + q
      } else if (typeof o.data === 'string') {
        body = o.data
      } else if (String(headerOf(header, 'content-type')).indexOf('application/x-www-form-urlencoded') >= 0) {
        body = query(o.data)
      } else {
        body = JSON.stringify(o.data)
      }
    }
    const entry = { kind: 'request', method, url: target, header, body: body === undefined ? undefined : body, stored: snapshot() }
    w.log.push(entry)
    send(method, target, header, body, o.timeout).then((res) => {
      if (task.aborted) return done(o, false, { errMsg: 'request:fail abort', errno: 600003 })
      let data = res.text
      if (o.responseType === 'arraybuffer') {
        data = new Uint8Array(Buffer.from(res.text)).buffer
      } else if (o.dataType === undefined || o.dataType === 'json') {
        try { data = JSON.parse(res.text) } catch (e) { /* WeChat keeps the text */ }
      }
      entry.status = res.status
      entry.answer = parseOr(res.text)
      done(o, true, { data, statusCode: res.status, header: res.headers, cookies: [], errMsg: 'request:ok' })
    }, (err) => {
      entry.failed = err.message
      const msg = err.message === 'timeout' ? 'request:fail timeout' : `request:fail ${err.message}`
      done(o, false, { errMsg: msg, errno: err.message === 'timeout' ? 5 : 600001 })
    })
    return task
  }

  w.login = function login(o) {
    return promised(o, (finish) => {
      if (w.offline) return finish(false, { errMsg: 'login:fail 网络连接失败', errno: 600001 })
      codes += 1
      const code = `dev:${w.user}:${device}-${codes}-${Date.now().toString(36)}`
      w.log.push({ kind: 'login', code })
      finish(true, { code, errMsg: 'login:ok' })
    })
  }

  // snapshot is the storage as it is when a request leaves.
  function snapshot() {
    const out = {}
    for (const [k, v] of storage) out[k] = JSON.parse(v)
    return out
  }

  w.getStorageSync = (key) => (storage.has(key) ? JSON.parse(storage.get(key)) : '')
  w.setStorageSync = (key, data) => {
    if (typeof key !== 'string' || key === '') throw new Error('setStorageSync:fail parameter error: parameter.key should be String')
    storage.set(key, JSON.stringify(data === undefined ? null : data))
  }
  w.removeStorageSync = (key) => { storage.delete(key) }
  w.clearStorageSync = () => { storage.clear() }
  w.getStorageInfoSync = () => ({ keys: Array.from(storage.keys()), currentSize: 0, limitSize: 10240 })

  w.cloud = {
    init(opts) { cloudReady = true; w.cloud.env = opts && opts.env },
    callFunction(o) {
      return promised(o, (finish) => {
        if (!cloudReady) return finish(false, { errCode: -1, errMsg: 'cloud.callFunction:fail please call wx.cloud.init first' })
        const body = JSON.stringify(o.data === undefined ? {} : o.data)
        const header = { 'content-type': 'application/json', 'X-WX-OPENID': `dev_${w.user}`, 'X-WX-UNIONID': `devunion_${w.user}`, 'X-WX-APPID': w.appId }
        const entry = { kind: 'cloud', name: o.name, data: JSON.parse(body), stored: snapshot() }
        w.log.push(entry)
        send('POST', `${gateway}/_wxcloud/${o.name}`, header, body).then((res) => {
          entry.answer = parseOr(res.text)
          if (res.status === 404) {
            return finish(false, { errCode: -501000, errMsg: `cloud.callFunction:fail -501000 FunctionName parameter could not be found: ${o.name}` })
          }
          if (entry.answer === null || typeof entry.answer !== 'object') {
            return finish(false, { errCode: -504002, errMsg: 'cloud.callFunction:fail -504002 functions execute fail' })
          }
          finish(true, { result: entry.answer, errMsg: 'cloud.callFunction:ok', requestID: entry.answer.requestId })
        }, (err) => finish(false, { errCode: -1, errMsg: `cloud.callFunction:fail ${err.message}` }))
      })
    },
  }

  for (const name of ['showToast', 'showLoading', 'hideLoading', 'hideToast', 'navigateTo', 'redirectTo', 'reLaunch', 'switchTab', 'navigateBack']) {
    w[name] = (o) => promised(o, (finish) => { w.ui.push({ api: name, args: o }); finish(true, { errMsg: `${name}:ok` }) })
  }
  w.showModal = (o) => promised(o, (finish) => { w.ui.push({ api: 'showModal', args: o }); finish(true, { confirm: true, cancel: false, errMsg: 'showModal:ok' }) })

  // idle resolves once nothing this device started (a request, wx.login, a
  // callback) is still under way, for pages whose handlers return nothing.
  w.idle = async () => {
    for (let quiet = 0; quiet < 3;) {
      await new Promise((r) => setTimeout(r, 5))
      quiet = pending === 0 ? quiet + 1 : 0
    }
  }
  // requests lists what the package sent to a function, over HTTP or wx.cloud.
  w.requests = (fn) => w.log.filter((e) => (e.kind === 'cloud' ? e.name === fn : e.kind === 'request' && pathOf(e.url).split('/')[1] === fn))
  // toasts lists the titles wx.showToast was asked to show.
  w.toasts = () => w.ui.filter((u) => u.api === 'showToast').map((u) => u.args && u.args.title)
  return w
}

function pathOf(u) {
  try { return new URL(u).pathname } catch (e) { return '' }
}

function parseOr(text) {
  try { return JSON.parse(text) } catch (e) { return text }
}

module.exports = { createWx, DEV_APP_ID, METHODS }
