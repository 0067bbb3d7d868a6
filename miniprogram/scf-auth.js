/*
 * scf-auth-miniprogram: the mini-program client of the scf-auth functions. One
 * file in ES5 with Promises, so it runs on any base library, compiled or not.
 * It stores the session, shares one refresh among the calls that meet an
 * expired token, proves the account with a silent wx.login() when a change
 * asks for it, and rejects with an AuthError whose message suits wx.showToast.
 */
'use strict'

// Codes that mean the stored session has ended: it is cleared and onLogout told.
var ENDED = ['UNAUTHORIZED', 'ACCOUNT_DISABLED', 'REFRESH_TOKEN_INVALID']

// STATUS is the HTTP status of each code, for wx.cloud answers, which come
// without one, so that AuthError.status means the same on both transports.
var STATUS = {}
var CODES = {
  400: 'INVALID_REQUEST INVALID_PHONE', 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED', 413: 'PAYLOAD_TOO_LARGE',
  401: 'CODE_INVALID WECHAT_CODE_INVALID UNAUTHORIZED TOKEN_EXPIRED REFRESH_TOKEN_INVALID',
  403: 'CAPTCHA_INVALID ACCOUNT_DISABLED REAUTH_REQUIRED', 409: 'ACCOUNT_CONFLICT LAST_IDENTITY', 428: 'CAPTCHA_REQUIRED',
  429: 'SMS_COOLDOWN SMS_LIMIT_EXCEEDED CODE_ATTEMPTS_EXCEEDED WECHAT_RATE_LIMITED',
  500: 'INTERNAL', 502: 'SMS_SEND_FAILED', 503: 'WECHAT_UNAVAILABLE SERVICE_UNAVAILABLE'
}
for (var status in CODES) {
  var names = CODES[status].split(' ')
  for (var n = 0; n < names.length; n++) STATUS[names[n]] = Number(status)
}

// Messages of the refusals the package decides itself.
var MESSAGES = {
  offline: '网络连接失败，请检查网络后重试',
  garbled: '服务暂时不可用，请稍后再试',
  denied: '未获得手机号授权',
  signedOut: '请先登录'
}

// Routes: [function, HTTP method, path below the function, direct-invocation action].
var ROUTES = {
  sendCode: ['send-sms', 'POST', ''],
  phoneLogin: ['phone-login', 'POST', ''],
  wxLogin: ['wx-login', 'POST', ''],
  phoneNumberLogin: ['phone-number-login', 'POST', ''],
  profile: ['profile', 'GET', '', 'get'],
  updateProfile: ['profile', 'PUT', '', 'update'],
  deleteAccount: ['profile', 'DELETE', '', 'delete'],
  bindPhone: ['profile', 'POST', '/phone', 'bindPhone'],
  unbindPhone: ['profile', 'DELETE', '/phone', 'unbindPhone'],
  bindWeChat: ['profile', 'POST', '/wechat', 'bindWeChat'],
  unbindWeChat: ['profile', 'DELETE', '/wechat', 'unbindWeChat'],
  sessions: ['profile', 'GET', '/sessions', 'listSessions'],
  revokeSession: ['profile', 'DELETE', '/sessions/', 'revokeSession'],
  security: ['profile', 'GET', '/security', 'security'],
  refresh: ['token', 'POST', '/refresh', 'refresh'],
  logout: ['token', 'POST', '/logout', 'logout']
}

// AuthError is every refusal: code (the contract's, or NETWORK_ERROR and
// USER_DENIED), message (a Chinese sentence for the user), data (the answer's
// details, or null) and status (the HTTP status; 0 when nothing was answered).
function AuthError(code, message, data, status) {
  this.name = 'AuthError'
  this.code = code
  this.message = message
  this.data = data === undefined ? null : data
  this.status = status || 0
  var stack = new Error(message).stack
  if (stack) this.stack = stack
}
AuthError.prototype = Object.create(Error.prototype)
AuthError.prototype.constructor = AuthError

// networkError is a failure with no answer of the contract behind it; data
// keeps what WeChat said (errMsg, errCode, errno).
function networkError(cause, message, status) {
  var data = {}
  var fields = ['errMsg', 'errCode', 'errno']
  for (var i = 0; i < fields.length; i++) if (cause && cause[fields[i]] !== undefined) data[fields[i]] = cause[fields[i]]
  return new AuthError('NETWORK_ERROR', message || MESSAGES.offline, data, status)
}

// parse is an answer as an object: wx.request parses JSON itself, and leaves
// the text when that fails.
function parse(answer) {
  if (typeof answer === 'string') {
    try { return JSON.parse(answer) } catch (e) { return null }
  }
  return answer
}

// settle reads an answer's envelope: its data when OK, else an AuthError.
// status is the HTTP status, or 0 for a wx.cloud result.
function settle(answer, status) {
  answer = parse(answer)
  if (!answer || typeof answer !== 'object' || typeof answer.code !== 'string') {
    throw networkError(null, MESSAGES.garbled, status)
  }
  if (answer.code === 'OK') return answer.data
  throw new AuthError(answer.code, answer.message || MESSAGES.garbled, answer.data, status || STATUS[answer.code] || 0)
}

function assign(target) {
  for (var i = 1; i < arguments.length; i++) {
    var source = arguments[i]
    for (var k in source) if (Object.prototype.hasOwnProperty.call(source, k)) target[k] = source[k]
  }
  return target
}

function trimSlash(url) { return String(url).replace(/\/+$/, '') }

function isEnded(err) { return !!err && ENDED.indexOf(err.code) >= 0 }

// sameAccount reports whether two stored sessions are of one account (a
// refresh in between changes both tokens, not the account).
function sameAccount(a, b) {
  if (!a || !b) return false
  if (a.user && b.user) return a.user.id === b.user.id
  return a.refreshToken === b.refreshToken
}

// fresh makes each local simulator code unique: the simulator, like WeChat,
// takes a code once.
var sequence = 0
function fresh() {
  sequence += 1
  return Date.now().toString(36) + '-' + sequence.toString(36) + '-' + Math.random().toString(36).slice(2, 8)
}

// refreshes are those under way, one per storage (wx object and key), so
// two pages with a createAuth each still send one /token/refresh.
var refreshes = []

// createAuth returns a client; the README lists its options.
function createAuth(options) {
  var o = options || {}
  var transport = o.transport || 'request'
  if (transport !== 'request' && transport !== 'cloud') {
    throw new TypeError('createAuth: transport must be "request" or "cloud"')
  }
  if (transport === 'request' && !o.baseUrl && !o.urls) {
    throw new TypeError('createAuth: give baseUrl (one domain for every function) or urls (one function URL each)')
  }
  var cloud = transport === 'cloud'
  var key = o.storageKey || 'scf-auth'
  var local = o.local ? assign({ user: 'alice', phone: '13800138000' }, o.local === true ? {} : o.local) : null

  function api() {
    var w = o.wx || (typeof wx !== 'undefined' ? wx : null) // eslint-disable-line no-undef
    if (!w) throw new TypeError('createAuth: no wx object')
    return w
  }

  // The stored session is the last Session answered, plus expiresAt and
  // refreshExpiresAt (milliseconds since the epoch).
  function load() {
    var s
    try { s = api().getStorageSync(key) } catch (e) { return null }
    return s && typeof s === 'object' && s.accessToken && s.refreshToken ? s : null
  }
  function save(session) {
    var now = Date.now()
    var s = assign({}, session, {
      expiresAt: now + (session.expiresIn || 0) * 1000,
      refreshExpiresAt: now + (session.refreshExpiresIn || 0) * 1000
    })
    api().setStorageSync(key, s)
    return s
  }
  function clear() {
    try { api().removeStorageSync(key) } catch (e) { /* nothing stored */ }
  }
  // keepUser stores the account an answer carries, when it is the session's.
  function keepUser(data) {
    var s = load()
    if (s && data && data.user && s.user && data.user.id === s.user.id) {
      s.user = data.user
      api().setStorageSync(key, s)
    }
    return data
  }
  function notify(err) {
    if (typeof o.onLogout !== 'function') return
    try { o.onLogout(err.code, err) } catch (e) {
      if (typeof console !== 'undefined') console.error('scf-auth: onLogout threw', e)
    }
  }
  // ended clears the session and tells onLogout when err says the session of
  // token is over and it is still the stored one: once, however many calls.
  function ended(err, token, quiet) {
    if (isEnded(err) && token) {
      var s = load()
      if (s && s.accessToken === token) {
        clear()
        if (!quiet) notify(err)
      }
    }
    throw err
  }

  function url(fn, path) {
    var one = o.urls && o.urls[fn]
    if (one) return trimSlash(one) + path
    if (o.baseUrl) return trimSlash(o.baseUrl) + '/' + fn + path
    throw new TypeError('createAuth: no URL for the ' + fn + ' function: give baseUrl, or urls["' + fn + '"]')
  }

  // send makes one call and resolves with the answer's data. Over HTTP a
  // DELETE carries its proof in the X-Auth-Proof header (some clients drop
  // a DELETE's body), a POST in its body.
  function send(route, body, token, proof, suffix) {
    return new Promise(function (resolve, reject) {
      var w = api()
      var data = assign({}, body)
      if (cloud) {
        if (route[3]) data.action = route[3]
        if (token) data.accessToken = token
        if (proof) data.proof = proof
        w.cloud.callFunction({
          name: route[0],
          data: data,
          success: function (res) {
            try { resolve(settle(res && res.result, 0)) } catch (e) { reject(e) }
          },
          fail: function (res) { reject(networkError(res)) }
        })
        return
      }
      var header = { 'content-type': 'application/json' }
      if (token) header.Authorization = 'Bearer ' + token
      if (proof && route[1] === 'DELETE') header['X-Auth-Proof'] = JSON.stringify(proof)
      else if (proof) data.proof = proof
      var request = {
        url: url(route[0], route[2] + (suffix || '')),
        method: route[1],
        header: header,
        success: function (res) {
          try { resolve(settle(res.data, res.statusCode)) } catch (e) { reject(e) }
        },
        fail: function (res) { reject(networkError(res)) }
      }
      if (route[1] !== 'GET' && (route[1] !== 'DELETE' || Object.keys(data).length)) request.data = data
      if (o.timeout) request.timeout = o.timeout
      w.request(request)
    })
  }

  // loginCode is a wx.login() code, or in local mode a simulator code.
  function loginCode() {
    if (local) return Promise.resolve('dev:' + local.user + ':' + fresh())
    return new Promise(function (resolve, reject) {
      api().login({
        success: function (res) { if (res && res.code) resolve(res.code); else reject(networkError(res)) },
        fail: function (res) { reject(networkError(res)) }
      })
    })
  }

  // weChat adds to a WeChat login or link a fresh login code (not over
  // wx.cloud, which names its caller) and appId when one is configured.
  function weChat(body, field) {
    var out = assign({}, body)
    if (o.appId) out.appId = o.appId
    if (cloud) return Promise.resolve(out)
    return loginCode().then(function (code) {
      out[field || 'loginCode'] = code
      return out
    })
  }

  // login sends a login and stores the Session it answers.
  function login(route, body) {
    return body.then(function (b) { return send(route, b, null, null) }).then(function (session) {
      save(session)
      return session
    })
  }

  // refreshed resolves with a token newer than token: the stored one if a
  // call renewed it already, else that of the one /token/refresh shared by
  // every call waiting now, stored before any of them retries.
  function refreshed(token, quiet) {
    var s = load()
    if (!s) return Promise.reject(new AuthError('UNAUTHORIZED', MESSAGES.signedOut, null, 401))
    if (s.accessToken !== token) return Promise.resolve(s.accessToken)
    var w = api()
    for (var i = 0; i < refreshes.length; i++) {
      if (refreshes[i].api === w && refreshes[i].key === key) return refreshes[i].promise
    }
    var promise = send(ROUTES.refresh, { refreshToken: s.refreshToken }, null, null).then(function (session) {
      var now = load()
      if (!now) throw new AuthError('UNAUTHORIZED', MESSAGES.signedOut, null, 401)
      // A login meanwhile replaced the session: keep the newer one.
      if (now.refreshToken !== s.refreshToken) return now.accessToken
      return save(session).accessToken
    }, function (err) {
      var now = load()
      if (isEnded(err) && now && now.refreshToken === s.refreshToken) {
        clear()
        if (!quiet) notify(err)
      }
      throw err
    })
    var pending = { api: w, key: key, promise: promise }
    refreshes.push(pending)
    var done = function () {
      var at = refreshes.indexOf(pending)
      if (at >= 0) refreshes.splice(at, 1)
    }
    promise.then(done, done)
    return promise
  }

  // authed makes a call with the stored token and, on TOKEN_EXPIRED, once
  // more after the shared refresh. body and proof are functions, so that
  // each try sends codes of its own.
  function authed(route, body, proof, suffix, quiet) {
    var s = load()
    var token = s ? s.accessToken : null
    function attempt(t) {
      return Promise.all([body ? body() : {}, proof ? proof() : null]).then(function (parts) {
        return send(route, parts[0], t, parts[1], suffix)
      })
    }
    return attempt(token).then(null, function (err) {
      if (err.code !== 'TOKEN_EXPIRED' || !token) return ended(err, token, quiet)
      return refreshed(token, quiet).then(function (t) {
        return attempt(t).then(null, function (again) { return ended(again, t, quiet) })
      })
    })
  }

  // guarded is an identity change or the deletion: with the proof given, or
  // else, on REAUTH_REQUIRED of an account with WeChat, once more with a
  // silent wx.login() code (of appId) as the proof.
  function guarded(route, body, opts) {
    var given = opts && opts.proof
    return authed(route, body, given ? function () { return given } : null).then(null, function (err) {
      var methods = (err.data && err.data.methods) || []
      if (given || err.code !== 'REAUTH_REQUIRED' || methods.indexOf('wechat') < 0) throw err
      return authed(route, body, function () {
        return loginCode().then(function (code) { return o.appId ? { loginCode: code, appId: o.appId } : { loginCode: code } })
      })
    })
  }

  // ticket asks onCaptcha for a ticket; without one, err is the answer.
  function ticket(err, captchaAppId) {
    if (typeof o.onCaptcha !== 'function') return Promise.reject(err)
    return Promise.resolve().then(function () {
      return o.onCaptcha({ captchaAppId: captchaAppId })
    }).then(function (answer) {
      var t = answer && typeof answer === 'object' ? (answer.ret === undefined || answer.ret === 0 ? answer.ticket : null) : answer
      if (!t) throw err
      return String(t)
    }, function (cause) {
      throw cause instanceof AuthError ? cause : err
    })
  }

  function raw(options, token) {
    return new Promise(function (resolve, reject) {
      var header = assign({}, options.header)
      if (token) header.Authorization = 'Bearer ' + token
      var request = assign({}, options, {
        header: header,
        success: resolve,
        fail: function (res) { reject(networkError(res)) }
      })
      delete request.complete
      api().request(request)
    })
  }

  function tokenExpired(res) {
    var body = parse(res.data)
    return res.statusCode === 401 && !!body && body.code === 'TOKEN_EXPIRED'
  }

  return {
    // Logins: each resolves with the Session and stores it.
    wxLogin: function (profile) {
      var p = profile || {}
      var body = {}
      if (p.nickname !== undefined) body.nickname = p.nickname
      if (p.avatarUrl !== undefined) body.avatarUrl = p.avatarUrl
      return login(ROUTES.wxLogin, weChat(body, 'code'))
    },
    phoneNumberLogin: function (e) {
      var d = (e && e.detail) || {}
      // Locally DevTools' button may fail for want of a permission the
      // simulator does not need: only the user's refusal is one then.
      var refused = !d.errMsg || /deny|cancel/i.test(d.errMsg)
      if (!d.code && !(local && !refused)) {
        return Promise.reject(new AuthError('USER_DENIED', MESSAGES.denied, { errMsg: d.errMsg || '' }, 0))
      }
      var phoneCode = local ? 'dev:' + local.phone + ':' + fresh() : d.code
      return login(ROUTES.phoneNumberLogin, weChat({ phoneCode: phoneCode }))
    },
    phoneLogin: function (phone, code) {
      return login(ROUTES.phoneLogin, weChat({ phone: phone, code: code }))
    },
    sendCode: function (phone, opts) {
      var asked = 0
      var captchaAppId = null
      function attempt(t) {
        var body = { phone: phone }
        if (t) body.captchaTicket = t
        return send(ROUTES.sendCode, body, null, null).then(null, function (err) {
          if (err.data && err.data.captchaAppId) captchaAppId = err.data.captchaAppId
          var ask = (err.code === 'CAPTCHA_REQUIRED' && asked === 0) || (err.code === 'CAPTCHA_INVALID' && asked < 2)
          if (!ask) throw err
          asked += 1
          return ticket(err, captchaAppId).then(attempt)
        })
      }
      return attempt(opts && opts.captchaTicket)
    },

    // The account: each resolves with the answer's data ({user}, {sessions}...).
    profile: function () { return authed(ROUTES.profile).then(keepUser) },
    updateProfile: function (fields) {
      return authed(ROUTES.updateProfile, function () { return assign({}, fields) }).then(keepUser)
    },
    bindPhone: function (phone, code, opts) {
      return guarded(ROUTES.bindPhone, function () { return { phone: phone, code: code } }, opts).then(keepUser)
    },
    unbindPhone: function (opts) { return guarded(ROUTES.unbindPhone, null, opts).then(keepUser) },
    bindWeChat: function (opts) {
      return guarded(ROUTES.bindWeChat, function () { return weChat({}) }, opts).then(keepUser)
    },
    unbindWeChat: function (opts) { return guarded(ROUTES.unbindWeChat, null, opts).then(keepUser) },
    deleteAccount: function (opts) {
      var s = load()
      return guarded(ROUTES.deleteAccount, null, opts).then(function (data) {
        if (sameAccount(load(), s)) clear()
        return data
      })
    },
    sessions: function () { return authed(ROUTES.sessions) },
    revokeSession: function (id) {
      if (cloud) return authed(ROUTES.revokeSession, function () { return { sessionId: id } })
      return authed(ROUTES.revokeSession, null, null, encodeURIComponent(id))
    },
    security: function () { return authed(ROUTES.security) },
    logout: function (opts) {
      var s = load()
      if (!s) return Promise.resolve({ loggedOut: true })
      var body = opts && opts.all ? { all: true } : {}
      function drop() { if (sameAccount(load(), s)) clear() }
      return authed(ROUTES.logout, function () { return body }, null, '', true).then(function (data) {
        drop()
        return data
      }, function (err) {
        drop()
        if (isEnded(err)) return { loggedOut: true }
        throw err
      })
    },

    // request is a wx.request to the team's own API with the token. It
    // resolves with wx.request's result, whatever the status, refreshing
    // first when the token has expired, or after a 401 TOKEN_EXPIRED.
    request: function (options) {
      var s = load()
      var first = s && s.expiresAt && Date.now() >= s.expiresAt ? refreshed(s.accessToken) : Promise.resolve(s ? s.accessToken : null)
      return first.then(function (token) {
        return raw(options || {}, token).then(function (res) {
          if (!token || !tokenExpired(res)) return res
          return refreshed(token).then(function (t) { return raw(options || {}, t) })
        })
      })
    },

    // What is stored, read at once.
    isLoggedIn: function () {
      var s = load()
      return !!s && (!s.refreshExpiresAt || s.refreshExpiresAt > Date.now())
    },
    user: function () {
      var s = load()
      return s ? s.user || null : null
    },
    accessToken: function () {
      var s = load()
      return s ? s.accessToken : null
    }
  }
}

module.exports = { createAuth: createAuth, AuthError: AuthError }
