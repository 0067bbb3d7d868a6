// A small mini-program runtime for tests, enough to run pages as the base
// library does: each file is a CommonJS module with wx, Page, App, getApp
// and getCurrentPages in scope; require resolves relative paths and the
// package's name (as 构建npm makes it resolvable); Page() registers a page
// that open() instantiates (data copied, setData, selectComponent, onLoad
// and onShow); a page's wxml gives its event bindings, and the captcha
// plugin's <t-captcha> answers show() with its verify event.
'use strict'

const fs = require('node:fs')
const path = require('node:path')

const PACKAGE_FILE = path.join(__dirname, '..', '..', 'scf-auth.js')
const PACKAGE_NAME = 'scf-auth-miniprogram'

// createRuntime runs the files of one mini-program on the stand-in wx.
// files maps a path ('pages/login/login.js') to its source; paths not there
// are read below dir. captcha decides what the captcha plugin answers when
// shown: a {ret, ticket} detail (the default passes with a fresh ticket),
// or null to close it.
function createRuntime({ wx, files = {}, dir = null, captcha }) {
  const modules = new Map()
  const definitions = new Map()
  const stack = []
  let app = {}
  let loading = null

  function source(file) {
    if (Object.prototype.hasOwnProperty.call(files, file)) return files[file]
    if (file === '<package>') return fs.readFileSync(PACKAGE_FILE, 'utf8')
    if (dir) return fs.readFileSync(path.join(dir, file), 'utf8')
    throw new Error(`no file ${file} in this mini-program`)
  }

  function resolve(from, spec) {
    if (spec === PACKAGE_NAME) return '<package>'
    if (!spec.startsWith('.') && !spec.startsWith('/')) throw new Error(`${from} requires ${spec}, which is neither the package nor a file`)
    const base = spec.startsWith('/') ? spec.slice(1) : path.posix.join(path.posix.dirname(from), spec)
    return base.endsWith('.js') ? base : `${base}.js`
  }

  function load(file) {
    if (modules.has(file)) return modules.get(file).exports
    const module = { exports: {} }
    modules.set(file, module)
    const run = new Function('require', 'module', 'exports', 'wx', 'Page', 'App', 'getApp', 'getCurrentPages', source(file))
    const before = loading
    loading = file
    try {
      run((spec) => load(resolve(file, spec)), module, module.exports, wx, Page, App, getApp, getCurrentPages)
    } finally {
      loading = before
    }
    return module.exports
  }

  function Page(def) { definitions.set(loading, def) }
  function App(def) { app = Object.assign({}, def, { globalData: def.globalData || {} }) }
  function getApp() { return app }
  function getCurrentPages() { return stack.slice() }

  // open loads the page file and puts an instance of it on top of the stack.
  async function open(file, query = {}) {
    load(file)
    const def = definitions.get(file)
    if (!def) throw new Error(`${file} called no Page()`)
    const page = Object.assign({}, def)
    page.route = file.replace(/\.js$/, '')
    page.data = JSON.parse(JSON.stringify(def.data || {}))
    page.setData = (changes, callback) => {
      for (const [k, v] of Object.entries(changes)) page.data[k] = v
      if (typeof callback === 'function') setImmediate(() => callback.call(page))
    }
    page.selectComponent = (selector) => component(page, selector)
    stack.push(page)
    if (typeof page.onLoad === 'function') await page.onLoad.call(page, query)
    if (typeof page.onShow === 'function') await page.onShow.call(page)
    return page
  }

  function close(page) {
    const i = stack.indexOf(page)
    if (i >= 0) stack.splice(i, 1)
    if (typeof page.onUnload === 'function') page.onUnload.call(page)
  }

  // component plays the components a page selects: the captcha plugin,
  // whose show() fires the page's bindverify (or bindclose) handler.
  function component(page, selector) {
    const el = elements(page).find((e) => selector === `#${e.attrs.id}`)
    if (!el) return null
    if (el.tag !== 't-captcha') return {}
    return {
      show() {
        setImmediate(() => {
          const detail = captcha ? captcha(page) : undefined
          if (detail === null) return call(page, el.attrs.bindclose, { type: 'close', detail: {} })
          return call(page, el.attrs.bindverify, { type: 'verify', detail: detail || { ret: 0, ticket: `dev-ok-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}` } })
        })
      },
    }
  }

  // elements are the page's wxml elements, each {tag, attrs, text}.
  function elements(page) {
    const wxml = source(`${page.route}.wxml`)
    const out = []
    const re = /<([a-zA-Z][\w-]*)((?:\s+[\w:.-]+(?:="[^"]*")?)*)\s*\/?>([^<]*)/g
    for (let m; (m = re.exec(wxml));) {
      const attrs = {}
      for (const a of m[2].matchAll(/([\w:.-]+)(?:="([^"]*)")?/g)) attrs[a[1]] = a[2] === undefined ? '' : a[2]
      out.push({ tag: m[1], attrs, text: m[3].trim() })
    }
    return out
  }

  function call(page, handler, event) {
    if (!handler) throw new Error(`no handler bound on ${page.route}`)
    if (typeof page[handler] !== 'function') throw new Error(`${page.route}.wxml binds ${handler}, which its page does not define`)
    return page[handler].call(page, Object.assign({ currentTarget: { dataset: {} }, target: { dataset: {} } }, event))
  }

  // bindings lists every handler the page's wxml binds, and whether the
  // page defines it.
  function bindings(page) {
    const out = []
    for (const el of elements(page)) {
      for (const [k, v] of Object.entries(el.attrs)) if (/^(bind|catch)/.test(k)) out.push({ tag: el.tag, event: k, handler: v, defined: typeof page[v] === 'function' })
    }
    return out
  }

  // The user's gestures, on the element that shows text (or matches attrs).
  function find(page, match) {
    const el = elements(page).find((e) => (typeof match === 'string' ? e.text === match || e.attrs.placeholder === match
      : Object.entries(match).every(([k, v]) => e.attrs[k] === v)))
    if (!el) throw new Error(`${page.route}.wxml has no ${JSON.stringify(match)}`)
    return el
  }
  const tap = (page, match, dataset = {}) => call(page, find(page, match).attrs.bindtap, { type: 'tap', detail: {}, currentTarget: { dataset }, target: { dataset } })
  const type = (page, match, value) => call(page, find(page, match).attrs.bindinput, { type: 'input', detail: { value, cursor: value.length } })
  const phoneButton = (page, detail) => call(page, find(page, { 'open-type': 'getPhoneNumber' }).attrs.bindgetphonenumber, { type: 'getphonenumber', detail })

  return { load, open, close, getCurrentPages, bindings, elements, tap, type, phoneButton }
}

module.exports = { createRuntime, PACKAGE_NAME }
