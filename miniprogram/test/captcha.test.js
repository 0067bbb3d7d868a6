// The captcha round trip through onCaptcha, against the gateway's captcha
// stand-in (CAPTCHA_MODE=adaptive: a phone's second send within the hour
// needs a ticket; tickets starting with dev-ok work once each).
'use strict'

const { describe, test } = require('node:test')
const assert = require('node:assert/strict')
const { device, freshTicket, sent } = require('./support/device')
const { newPhone, sleep } = require('./support/gateway')

const DEV_CAPTCHA_APP_ID = '190000000' // the captcha stand-in's CaptchaAppId, as the answer carries it

// firstSend sends the phone's first code (no captcha) and waits out the
// cooldown.
async function firstSend(auth, phone) {
  await auth.sendCode(phone)
  await sleep(1100)
}

// The tests wait for expiries and cooldowns: each on its own device and
// account, they wait at the same time.
describe('the captcha round trip', { concurrency: true }, () => {
  test('CAPTCHA_REQUIRED: onCaptcha shows the captcha, its ticket goes with the send once more', async () => {
    const { w, auth, captchas } = await device()
    const phone = newPhone()
    await firstSend(auth, phone)
    assert.equal(captchas.length, 0, 'a first code needs no captcha')
    const answer = await auth.sendCode(phone)
    assert.equal(typeof answer.cooldown, 'number')
    assert.deepEqual(captchas, [{ captchaAppId: DEV_CAPTCHA_APP_ID }])
    const sends = w.requests('send-sms').map((e) => [sent(e), e.answer.code])
    assert.deepEqual(sends.slice(1).map((s) => s[1]), ['CAPTCHA_REQUIRED', 'OK'])
    assert.match(sends[2][0].captchaTicket, /^dev-ok-/)
  })

  test('a spent ticket (CAPTCHA_INVALID) asks once more, and the new ticket sends', async () => {
    const spent = freshTicket()
    const { w, auth, captchas } = await device({ onCaptcha: (arg, n) => (n === 1 ? spent : freshTicket()) })
    const used = await device({ onCaptcha: () => spent })
    const phone = newPhone()
    await firstSend(used.auth, phone)
    await used.auth.sendCode(phone) // spends the ticket
    await sleep(1100)

    await auth.sendCode(phone)
    assert.equal(captchas.length, 2)
    assert.deepEqual(captchas[1], { captchaAppId: DEV_CAPTCHA_APP_ID }, 'the second ask knows the captcha app too')
    const codes = w.requests('send-sms').map((e) => e.answer.code)
    assert.deepEqual(codes, ['CAPTCHA_REQUIRED', 'CAPTCHA_INVALID', 'OK'])
  })

  test('a second spent ticket rejects CAPTCHA_INVALID, with the contract\'s message; no endless asking', async () => {
    const spent = freshTicket()
    const used = await device({ onCaptcha: () => spent })
    const { w, auth, captchas } = await device({ onCaptcha: () => spent })
    const phone = newPhone()
    await firstSend(used.auth, phone)
    await used.auth.sendCode(phone)
    await sleep(1100)
    await assert.rejects(auth.sendCode(phone), (err) => {
      assert.equal(err.code, 'CAPTCHA_INVALID')
      assert.equal(err.status, 403)
      assert.equal(err.message, '安全验证未通过，请重试')
      return true
    })
    assert.equal(captchas.length, 2)
    assert.equal(w.requests('send-sms').length, 3)
  })

  test('without onCaptcha, or when the user closes the captcha, sendCode rejects CAPTCHA_REQUIRED with the captcha app', async () => {
    const phone = newPhone()
    const plain = await device({ auth: { onCaptcha: undefined } })
    await firstSend(plain.auth, phone)
    await assert.rejects(plain.auth.sendCode(phone), (err) => err.code === 'CAPTCHA_REQUIRED' && err.status === 428 &&
      err.data.captchaAppId === DEV_CAPTCHA_APP_ID && err.message === '请先完成安全验证')

    const closed = await device({ onCaptcha: () => Promise.reject(new Error('closed')) })
    await assert.rejects(closed.auth.sendCode(phone), (err) => err.code === 'CAPTCHA_REQUIRED')
    const cancelled = await device({ onCaptcha: () => ({ ret: 2, ticket: '' }) })
    await assert.rejects(cancelled.auth.sendCode(phone), (err) => err.code === 'CAPTCHA_REQUIRED')
    assert.equal(cancelled.w.requests('send-sms').length, 1, 'nothing sent without a ticket')
  })

  test('the plugin\'s verify event detail ({ret: 0, ticket}) is a ticket too', async () => {
    const { auth, w } = await device({ onCaptcha: () => ({ ret: 0, ticket: freshTicket() }) })
    const phone = newPhone()
    await firstSend(auth, phone)
    await auth.sendCode(phone)
    assert.deepEqual(w.requests('send-sms').map((e) => e.answer.code), ['OK', 'CAPTCHA_REQUIRED', 'OK'])
  })

  test('other refusals of a send are not a captcha matter: SMS_COOLDOWN with retryAfter', async () => {
    const { auth, captchas, w } = await device()
    const phone = newPhone()
    await auth.sendCode(phone)
    await assert.rejects(auth.sendCode(phone), (err) => {
      // A second send at once: the cooldown answers before the captcha is
      // asked for, so no captcha is shown for a send that could not go.
      assert.equal(err.code, 'SMS_COOLDOWN')
      assert.equal(err.status, 429)
      assert.ok(err.data.retryAfter >= 1)
      return true
    })
    assert.equal(captchas.length, 0)
    assert.deepEqual(w.requests('send-sms').map((e) => e.answer.code), ['OK', 'SMS_COOLDOWN'])
    await assert.rejects(auth.sendCode('12345'), (err) => err.code === 'INVALID_PHONE' && err.message === '请输入正确的手机号')
  })
})
