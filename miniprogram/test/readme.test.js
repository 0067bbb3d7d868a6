// The README's "Calling it from a mini-program", run as a user pastes it:
// every JavaScript block of the section is a file of a mini-program (its
// first line names it), the pages' wxml is what their comments show, and
// the pages run under the wx stand-in against the gateway, with the
// README's own addresses (auth.example.com, the LAN address, your API)
// pointing there as DNS would. A block no scenario runs fails the test.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const { createWx } = require('./support/wx')
const { createRuntime } = require('./support/miniapp')
const { gateway, smsCode, newPhone, newUser, sleep, TTL_MS } = require('./support/gateway')

const HEADING = '## Calling it from a mini-program'
const LAN = 'http://192.168.1.23:9000'
const API = 'https://api.example.com'

// blocks are the section's ```js blocks, each {name, variant, source}:
// name is the file its first line names, variant what follows a comma.
function blocks() {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8')
  const start = readme.indexOf(`\n${HEADING}\n`)
  assert.ok(start >= 0, `README has no "${HEADING}"`)
  const rest = readme.slice(start + HEADING.length + 2)
  const section = rest.slice(0, rest.search(/\n## /))
  const out = []
  for (const m of section.matchAll(/```js\n([\s\S]*?)```/g)) {
    const first = m[1].split('\n')[0]
    const named = /^\/\/ ([\w/.-]+\.js)(.*)$/.exec(first)
    assert.ok(named, `a js block of the README's section names no file on its first line: ${first}`)
    // "// utils/auth.js, over wx.cloud" is a variant; "// utils/captcha.js: …" a description.
    out.push({ name: named[1], variant: named[2].startsWith(',') ? named[2].slice(1).trim() : '', source: m[1] })
  }
  return out
}

const all = blocks()
const used = new Set()

function block(name, variant = '') {
  const b = all.find((x) => x.name === name && (variant ? x.variant.startsWith(variant) : x.variant === ''))
  assert.ok(b, `the README shows no ${name}${variant ? ` (${variant})` : ''}`)
  used.add(b)
  return b.source
}

// wxmlOf is a page's wxml: the tags its comments show, and those of the
// captcha's when the page mixes it in.
function wxmlOf(source) {
  const tags = (src) => src.split('\n').filter((l) => /^\s*\/\//.test(l)).flatMap((l) => l.match(/<[a-zA-Z][^>]*>[^<]*/g) || [])
  let out = tags(source)
  if (source.includes("require('../../utils/captcha')")) out = out.concat(tags(block('utils/captcha.js')))
  return out.join('\n')
}

// miniProgram is one phone running the README's files, with utils/auth.js
// in the given variant.
async function miniProgram({ variant = '', user = newUser('rd'), api } = {}) {
  const g = await gateway()
  const hosts = { 'https://auth.example.com': g.base, [LAN]: g.base }
  if (api) hosts[API] = api
  const w = createWx({ gateway: g.base, user, hosts })
  const files = { 'utils/auth.js': block('utils/auth.js', variant), 'utils/captcha.js': block('utils/captcha.js'), 'utils/api.js': block('utils/api.js') }
  for (const page of ['pages/login/login', 'pages/account/account', 'pages/security/security']) {
    files[`${page}.js`] = block(`${page}.js`)
    files[`${page}.wxml`] = wxmlOf(files[`${page}.js`])
  }
  const rt = createRuntime({ wx: w, files })
  const opened = []
  const open = async (page) => {
    const p = await rt.open(`pages/${page}/${page}.js`)
    opened.push(p)
    for (const b of rt.bindings(p)) assert.ok(b.defined, `pages/${page}: ${b.tag} ${b.event}="${b.handler}" is not defined`)
    return p
  }
  return { w, rt, open, auth: rt.load('utils/auth.js'), errors: () => w.ui.filter((u) => u.api === 'showToast' && u.args.icon === 'none').map((u) => u.args.title) }
}

// A stand-in for the team's own API: it answers the orders of a caller
// whose bearer token the gateway accepts (GET /profile with it).
async function ownAPI(base) {
  const server = http.createServer((req, res) => {
    const token = (req.headers.authorization || '').replace(/^Bearer /, '')
    http.get(`${base}/profile`, { headers: { authorization: `Bearer ${token}` } }, (check) => {
      let text = ''
      check.on('data', (c) => { text += c })
      check.on('end', () => {
        const answer = JSON.parse(text)
        res.writeHead(answer.code === 'OK' ? 200 : 401, { 'content-type': 'application/json' })
        res.end(JSON.stringify(answer.code === 'OK' ? { orders: [], user: answer.data.user.id } : { code: answer.code }))
      })
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() }
}

test('SMS login, the account, its security page, an expiry, your own API, another phone ended, logout', async () => {
  const g = await gateway()
  const api = await ownAPI(g.base)
  try {
    const { w, rt, open, auth, errors } = await miniProgram({ api: api.url })
    const phone = newPhone()
    const login = await open('login')
    rt.type(login, '手机号', phone)
    await rt.tap(login, '获取验证码')
    rt.type(login, '验证码', await smsCode(w, phone))
    await rt.tap(login, '登录')
    assert.deepEqual(errors(), [])
    assert.deepEqual(w.toasts(), ['验证码已发送', '登录成功'])
    assert.equal(auth.isLoggedIn(), true)

    const account = await open('account')
    assert.equal(account.data.user.phone, phone)
    assert.equal(account.data.sessions.length, 1)
    assert.ok(account.data.events.some((e) => e.type === 'signup'))
    await rt.tap(account, '保存')
    assert.equal(account.data.user.nickname, '小明')

    // phone-login sent a wx.login() code along: one account per person.
    assert.equal(auth.user().wechatBound, true)

    // 换绑: the account has WeChat, so the proof is silent.
    const security = await open('security')
    const next = newPhone()
    rt.type(security, '新手机号', next)
    await rt.tap(security, '获取验证码')
    rt.type(security, '验证码', await smsCode(w, next))
    await rt.tap(security, '绑定手机号')
    assert.equal(auth.user().phone, next)
    await rt.tap(security, '解绑微信')
    assert.equal(auth.user().wechatBound, false)

    // Without WeChat, binding it needs an SMS proof: the first tap sends a
    // code to the current phone (its second this hour: the captcha first),
    // the second tap carries it. (A person takes longer than the cooldown,
    // a second here.)
    await sleep(1100)
    await rt.tap(security, '绑定微信')
    await w.idle()
    assert.deepEqual(errors(), [])
    assert.equal(security.data.captchaAppId, '190000000')
    rt.type(security, '短信验证码', await smsCode(w, next))
    await rt.tap(security, '绑定微信')
    assert.equal(auth.user().wechatBound, true)
    await rt.tap(security, '解绑手机号')
    assert.equal(auth.user().phone, null)
    await rt.tap(security, '解绑微信')
    assert.deepEqual(errors(), ['这是账号唯一的登录方式，不能解绑'])

    // The token expires; the page refreshes by itself, once.
    const refreshes = w.requests('token').length
    await sleep(TTL_MS + 600)
    await account.onShow()
    assert.equal(w.requests('token').length, refreshes + 1, 'one refresh for the three calls of onShow')
    assert.equal(account.data.user.phone, null)
    const { orders, user } = await rt.load('utils/api.js').orders()
    assert.deepEqual(orders, [])
    assert.equal(user, auth.user().id)

    // The same person logs in on another phone; this one ends that session.
    const other = await miniProgram({ user: w.user })
    await other.rt.tap(await other.open('login'), '微信一键登录')
    assert.equal(other.auth.user().id, auth.user().id)
    await account.onShow()
    const theirs = account.data.sessions.find((s) => !s.current)
    await rt.tap(account, '下线', { id: theirs.id })
    assert.equal(account.data.sessions.length, 1)
    await (await other.open('account')).onShow()
    assert.deepEqual(other.w.ui.filter((u) => u.api === 'reLaunch').map((u) => u.args.url), ['/pages/login/login'])
    assert.equal(other.auth.isLoggedIn(), false)

    await rt.tap(account, '退出登录')
    assert.equal(auth.isLoggedIn(), false)
    assert.deepEqual(w.ui.filter((u) => u.api === 'reLaunch').map((u) => u.args.url), ['/pages/login/login'])
    assert.deepEqual(errors(), ['这是账号唯一的登录方式，不能解绑'])
  } finally {
    api.close()
  }
})

test('微信一键登录, the phone-number button declined then accepted, 注销账号', async () => {
  const { w, rt, open, auth, errors } = await miniProgram()
  const login = await open('login')
  await rt.tap(login, '微信一键登录')
  assert.deepEqual(w.toasts(), ['注册成功'])
  await rt.phoneButton(login, { errMsg: 'getPhoneNumber:fail user deny' })
  assert.deepEqual(w.toasts(), ['注册成功'], 'a refusal shows nothing')
  const phone = newPhone()
  await rt.phoneButton(login, { errMsg: 'getPhoneNumber:ok', code: `dev:${phone}:1` })
  assert.equal(auth.user().phone, phone)
  const security = await open('security')
  await rt.tap(security, '注销账号')
  assert.equal(auth.isLoggedIn(), false)
  assert.deepEqual(w.ui.filter((u) => u.api === 'reLaunch').map((u) => u.args.url), ['/pages/login/login'])
  assert.deepEqual(errors(), [])
})

test('the same pages over wx.cloud: no wx.login, no wx.request', async () => {
  const { w, rt, open, auth, errors } = await miniProgram({ variant: 'over wx.cloud' })
  const login = await open('login')
  await rt.tap(login, '微信一键登录')
  const account = await open('account')
  assert.equal(account.data.sessions.length, 1)
  const security = await open('security')
  const phone = newPhone()
  rt.type(security, '新手机号', phone)
  await rt.tap(security, '获取验证码')
  rt.type(security, '验证码', await smsCode(w, phone))
  await rt.tap(security, '绑定手机号')
  assert.equal(auth.user().phone, phone)
  assert.deepEqual(errors(), [])
  assert.ok(w.log.length > 0 && w.log.every((e) => e.kind === 'cloud'), 'every call through wx.cloud.callFunction')
  assert.equal(w.cloud.env, 'your-env-id')
})

test('against the local gateway from DevTools: the simulator\'s codes, a fresh one each call', async () => {
  const { w, rt, open, auth, errors } = await miniProgram({ variant: 'against the local gateway', user: newUser('devtools') })
  const login = await open('login')
  await rt.tap(login, '微信一键登录')
  await rt.phoneButton(login, { errMsg: 'getPhoneNumber:ok', code: 'a-code-only-wechat-could-exchange' })
  assert.equal(auth.user().phone, '13800138000')
  assert.deepEqual(errors(), [])
  assert.ok(w.log.every((e) => e.kind !== 'request' || e.url.startsWith(LAN)))
  const codes = w.log.filter((e) => e.kind === 'request').map((e) => JSON.parse(e.body || '{}'))
    .flatMap((b) => [b.code, b.loginCode, b.phoneCode]).filter(Boolean)
  assert.equal(codes.length, 3)
  assert.equal(new Set(codes).size, 3)
  assert.ok(codes.every((c) => /^dev:(alice|13800138000):/.test(c)), codes.join(' '))
  assert.equal(w.log.filter((e) => e.kind === 'login').length, 0)
})

test('every js block of the section was run', () => {
  const missed = all.filter((b) => !used.has(b)).map((b) => `${b.name} ${b.variant}`)
  assert.deepEqual(missed, [])
})
