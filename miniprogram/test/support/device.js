// A device for a test: a wx stand-in of its own WeChat user and a client
// of the package on it, against the tests' gateway.
'use strict'

const { createWx } = require('./wx')
const { createAuth } = require('../../scf-auth')
const { gateway, newUser } = require('./gateway')

let tickets = 0
// freshTicket is a ticket the captcha stand-in accepts once.
function freshTicket() {
  tickets += 1
  return `dev-ok-${process.pid}-${tickets}-${Date.now().toString(36)}`
}

// device resolves with {w, auth, logouts, captchas, base}: logouts are the
// reasons onLogout was called with, captchas the arguments of onCaptcha
// (which answers a fresh ticket unless options.onCaptcha says otherwise).
async function device(options = {}) {
  const g = await gateway()
  const w = createWx({ gateway: g.base, user: options.user || newUser(), hosts: options.hosts })
  const logouts = []
  const captchas = []
  const config = Object.assign({
    baseUrl: g.base,
    wx: w,
    onLogout(reason) { logouts.push(reason) },
    onCaptcha(arg) {
      captchas.push(arg)
      return options.onCaptcha ? options.onCaptcha(arg, captchas.length) : freshTicket()
    },
  }, options.auth)
  if (config.transport === 'cloud') w.cloud.init({ env: 'test' })
  return { w, auth: createAuth(config), logouts, captchas, base: g.base, config }
}

// bearer is the access token a logged request carried.
function bearer(entry) {
  const h = entry.header && (entry.header.Authorization || entry.header.authorization)
  if (h) return h.replace(/^Bearer /, '')
  return entry.data && entry.data.accessToken
}

// sent is the body a logged request carried, as an object.
function sent(entry) {
  if (entry.kind === 'cloud') return entry.data
  return entry.body ? JSON.parse(entry.body) : {}
}

module.exports = { device, freshTicket, bearer, sent }
