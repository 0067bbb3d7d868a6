// The example login page (example/), run as a mini-program runs it: its
// wxml's buttons and inputs drive its js, which uses the package through
// example/utils/auth.js, against the gateway.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { createWx } = require('./support/wx')
const { createRuntime } = require('./support/miniapp')
const { gateway, smsCode, newPhone, newUser, sleep } = require('./support/gateway')

const EXAMPLE = path.join(__dirname, '..', 'example')

async function miniProgram(captcha) {
  const g = await gateway()
  const w = createWx({ gateway: g.base, user: newUser('ex'), hosts: { 'https://auth.example.com': g.base } })
  const rt = createRuntime({ wx: w, dir: EXAMPLE, captcha })
  const page = await rt.open('pages/login/login.js')
  test.after(() => rt.close(page))
  return { w, rt, page, auth: rt.load('utils/auth.js') }
}

const errorToasts = (w) => w.ui.filter((u) => u.api === 'showToast' && u.args.icon === 'none').map((u) => u.args.title)

test('every handler the wxml binds is defined by the page', async () => {
  const { rt, page } = await miniProgram()
  const bound = rt.bindings(page)
  assert.ok(bound.length >= 8)
  for (const b of bound) assert.ok(b.defined, `${b.tag} ${b.event}="${b.handler}" is not defined`)
})

test('微信一键登录, then 退出登录', async () => {
  const { w, rt, page, auth } = await miniProgram()
  assert.equal(page.data.user, null)
  await rt.tap(page, '微信一键登录')
  assert.ok(page.data.user && page.data.user.nickname)
  assert.deepEqual(w.toasts(), ['注册成功'])
  assert.equal(auth.isLoggedIn(), true)
  await rt.tap(page, '退出登录')
  assert.equal(page.data.user, null)
  assert.equal(auth.isLoggedIn(), false)
  assert.deepEqual(errorToasts(w), [])
})

test('手机号快捷登录: declined, no toast and nothing sent; accepted, logged in', async () => {
  const { w, rt, page } = await miniProgram()
  await rt.phoneButton(page, { errMsg: 'getPhoneNumber:fail user deny' })
  assert.equal(w.log.length, 0)
  assert.deepEqual(w.toasts(), [])
  const phone = newPhone()
  await rt.phoneButton(page, { errMsg: 'getPhoneNumber:ok', code: `dev:${phone}:1` })
  assert.equal(page.data.user.phone, phone)
  assert.deepEqual(errorToasts(w), [])
})

test('短信验证码登录: type the number, send, type the code, log in; the second code this hour passes the captcha', async () => {
  const { w, rt, page } = await miniProgram()
  const phone = newPhone()
  rt.type(page, '手机号', phone)
  await rt.tap(page, '获取验证码')
  assert.equal(page.data.countdown, 1, 'the countdown of the answer\'s cooldown (SMS_COOLDOWN=1s here)')
  rt.type(page, '验证码', await smsCode(w, phone))
  await rt.tap(page, '短信验证码登录')
  assert.equal(page.data.user.phone, phone)
  assert.equal(page.data.code, '')
  assert.deepEqual(errorToasts(w), [])

  await sleep(1200)
  assert.equal(page.data.countdown, 0)
  await rt.tap(page, '获取验证码')
  await w.idle()
  assert.equal(page.data.captchaAppId, '190000000', 'the captcha plugin got the captcha app')
  assert.deepEqual(w.requests('send-sms').map((e) => e.answer.code), ['OK', 'CAPTCHA_REQUIRED', 'OK'])
  assert.deepEqual(errorToasts(w), [])
})

test('the captcha closed: the send is refused with the contract\'s sentence', async () => {
  const { w, rt, page } = await miniProgram(() => null)
  const phone = newPhone()
  rt.type(page, '手机号', phone)
  await rt.tap(page, '获取验证码')
  await sleep(1200)
  await rt.tap(page, '获取验证码')
  assert.deepEqual(errorToasts(w), ['请先完成安全验证'])
})

test('a session ended on another phone sends the user back to the login page (onLogout)', async () => {
  const { w, rt, page, auth } = await miniProgram()
  await rt.tap(page, '微信一键登录')
  const other = await miniProgram()
  other.w.user = w.user // the same person on a second phone
  await other.rt.tap(other.page, '微信一键登录')
  await other.auth.logout({ all: true })
  await assert.rejects(auth.profile(), (err) => err.code === 'UNAUTHORIZED')
  assert.deepEqual(w.ui.filter((u) => u.api === 'reLaunch').map((u) => u.args.url), ['/pages/login/login'])
})
