// The package as a mini-program takes it: one small CommonJS file, no
// dependencies, no Node APIs, ES5 syntax with Promises (so it runs whether
// or not DevTools compiles miniprogram_npm), named by package.json's main.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const vm = require('node:vm')

const dir = path.join(__dirname, '..')
const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
const file = path.join(dir, pkg.main)
const source = fs.readFileSync(file, 'utf8')

// code is the source without comments and string contents, for syntax checks.
function code(src) {
  return src
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/'(?:[^'\\\n]|\\.)*'/g, "''")
    .replace(/"(?:[^"\\\n]|\\.)*"/g, '""')
    .replace(/\/(?![*/])(?:[^/\\\n[]|\\.|\[(?:[^\]\\\n]|\\.)*\])+\/[gimsuy]*/g, '/re/')
    .replace(/\/\/.*$/gm, '')
}

test('package.json: main is the one file, and the package depends on nothing', () => {
  assert.equal(pkg.main, 'scf-auth.js')
  assert.deepEqual(pkg.files, [pkg.main])
  assert.deepEqual(pkg.dependencies || {}, {})
  assert.equal(pkg.devDependencies, undefined)
  assert.ok(fs.existsSync(file))
})

test('the file is at most 20 KB unminified', () => {
  const size = fs.statSync(file).size
  assert.ok(size <= 20000, `${size} bytes`)
})

test('ES5 syntax: no arrows, classes, let/const, template strings, spread, async', () => {
  const c = code(source)
  for (const [name, re] of [['arrow function', /=>/], ['class', /\bclass\b/], ['let', /\blet\b/], ['const', /\bconst\b/],
    ['template string', /`/], ['spread or rest', /\.\.\./], ['async', /\basync\b/], ['await', /\bawait\b/],
    ['optional chaining', /\?\./], ['nullish coalescing', /\?\?/], ['Array.prototype.includes', /\.includes\(/]]) {
    assert.doesNotMatch(c, re, `${name} in the package`)
  }
})

test('no Node APIs: it loads and works with only what a mini-program has', async () => {
  assert.doesNotMatch(code(source), /\brequire\s*\(|\bprocess\b|\bBuffer\b|\bglobal\b|__dirname|setImmediate/)
  const calls = []
  const wx = {
    getStorageSync: () => '',
    setStorageSync() {},
    removeStorageSync() {},
    request(o) {
      calls.push(o)
      o.success({ statusCode: 200, data: { code: 'OK', message: 'ok', data: { cooldown: 60, expiresIn: 300 }, requestId: 'r' } })
    },
    login(o) { o.success({ code: 'c', errMsg: 'login:ok' }) },
  }
  const sandbox = { module: { exports: {} }, wx, Promise, Date, Math, JSON, Object, Array, String, Number, Error, TypeError, RegExp, encodeURIComponent }
  sandbox.exports = sandbox.module.exports
  vm.runInNewContext(source, sandbox, { filename: pkg.main })
  const auth = sandbox.module.exports.createAuth({ baseUrl: 'https://auth.example.com/' })
  assert.deepEqual(await auth.sendCode('13800138000'), { cooldown: 60, expiresIn: 300 })
  assert.equal(calls[0].url, 'https://auth.example.com/send-sms')
  assert.equal(calls[0].method, 'POST')
})
