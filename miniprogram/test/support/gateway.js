// The local gateway the tests run against: the one SCF_AUTH_GATEWAY names
// (the Go test starts it and passes its output as the file
// SCF_AUTH_GATEWAY_LOG), or else one this process starts with
// `go run ./scripts/dev`, configured as TEST_ENV says.
'use strict'

const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')

const root = path.resolve(__dirname, '..', '..', '..')

// TEST_ENV is how the tests' gateway is configured (the Go test that starts
// it reads the same file): access tokens that expire within a test
// (ACCESS_TOKEN_TTL 3s), a spent refresh token that revokes its session the
// moment it comes back (REFRESH_REUSE_GRACE 0s), a proof for every identity
// change (REAUTH_WINDOW 0s), the captcha for a phone's second send within
// the hour (CAPTCHA_MODE adaptive), and caps and a cooldown that many tests
// from one address do not reach.
const TEST_ENV = require('./gateway-env.json')

// TTL_MS is how long an access token of this gateway may live (its expiry
// is truncated to the second, so it may end up to a second sooner).
const TTL_MS = 3000

let started = null

function freePort() {
  return new Promise((resolve, reject) => {
    const l = net.createServer()
    l.listen(0, '127.0.0.1', () => {
      const { port } = l.address()
      l.close(() => resolve(port))
    })
    l.on('error', reject)
  })
}

async function startOwn() {
  const port = await freePort()
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'scf-auth-mp-'))
  const out = []
  const child = spawn('go', ['run', './scripts/dev', '-addr', `127.0.0.1:${port}`, '-data', data], {
    cwd: root, env: Object.assign({}, process.env, TEST_ENV), detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  })
  const stop = () => { try { process.kill(-child.pid, 'SIGINT') } catch (e) { /* gone already */ } }
  process.on('exit', stop)
  child.stdout.on('data', (c) => out.push(c.toString()))
  child.stderr.on('data', (c) => out.push(c.toString()))
  await new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (out.join('').indexOf('Ctrl-C stops everything') >= 0) { clearInterval(t); resolve() }
    }, 50)
    child.on('exit', (code) => { clearInterval(t); reject(new Error(`the gateway exited (${code}):\n${out.join('')}`)) })
  })
  child.unref()
  child.stdout.unref && child.stdout.unref()
  child.stderr.unref && child.stderr.unref()
  return { base: `http://127.0.0.1:${port}`, output: () => out.join('') }
}

// gateway resolves with {base, output()}: the gateway's origin and what it
// has printed so far.
function gateway() {
  if (!started) {
    const base = process.env.SCF_AUTH_GATEWAY
    const logFile = process.env.SCF_AUTH_GATEWAY_LOG
    started = base
      ? Promise.resolve({ base: base.replace(/\/$/, ''), output: () => (logFile ? fs.readFileSync(logFile, 'utf8') : '') })
      : startOwn()
  }
  return started
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// smsCode is the code the gateway printed for the last SMS the device w
// had sent to phone: found by the request id of that send's answer.
async function smsCode(w, phone) {
  const g = await gateway()
  const sends = w.requests('send-sms').filter((e) => {
    const sent = e.kind === 'cloud' ? e.data : JSON.parse(e.body || '{}')
    return sent.phone === phone && e.answer && e.answer.code === 'OK'
  })
  if (!sends.length) throw new Error(`no SMS was sent to ${phone} from this device`)
  const id = sends[sends.length - 1].answer.requestId
  const line = new RegExp(`"requestId":"${id}"[^\\n]*"code":"(\\d{6})"`)
  for (let i = 0; i < 200; i++) {
    const m = line.exec(g.output())
    if (m) return m[1]
    await sleep(50)
  }
  throw new Error(`the gateway printed no SMS code for request ${id}`)
}

let phones = 0
// newPhone is a mainland mobile number no other test uses.
function newPhone() {
  phones += 1
  const n = (process.pid * 7919 + phones * 104729 + Math.floor(Math.random() * 1e6)) % 1e9
  return `13${String(n).padStart(9, '0')}`
}

// newUser is a WeChat user of the simulator no other test uses.
function newUser(prefix = 'u') {
  return `${prefix}${process.pid.toString(36)}${Math.random().toString(36).slice(2, 10)}`
}

module.exports = { gateway, smsCode, newPhone, newUser, sleep, TEST_ENV, TTL_MS, root }
