// The login page: WeChat login, the phone-number button, an SMS code (with
// the captcha when the backend asks for one), and logging out.
const auth = require('../../utils/auth')

// toast shows a refusal as it is: every message of the package is a
// sentence for the user.
function toast(err) {
  wx.showToast({ title: err.message, icon: 'none' })
}

Page({
  data: { user: null, phone: '', code: '', countdown: 0, captchaAppId: '' },

  onLoad() {
    this.setData({ user: auth.user() })
  },
  onUnload() {
    clearInterval(this.timer)
  },

  // 微信一键登录
  onWeChatLogin() {
    return auth.wxLogin().then((session) => this.signedIn(session), toast)
  },

  // 手机号快捷登录: the getPhoneNumber button's event, as it is.
  onPhoneNumber(e) {
    return auth.phoneNumberLogin(e).then((session) => this.signedIn(session), (err) => {
      if (err.code !== 'USER_DENIED') toast(err) // a user who said no needs no toast
    })
  },

  // 短信验证码登录
  onPhoneInput(e) {
    this.setData({ phone: e.detail.value })
  },
  onCodeInput(e) {
    this.setData({ code: e.detail.value })
  },
  onSendCode() {
    if (this.data.countdown > 0) return undefined
    return auth.sendCode(this.data.phone).then(({ cooldown }) => this.countDown(cooldown), (err) => {
      if (err.code === 'SMS_COOLDOWN') this.countDown(err.data.retryAfter)
      toast(err)
    })
  },
  onPhoneLogin() {
    return auth.phoneLogin(this.data.phone, this.data.code).then((session) => this.signedIn(session), toast)
  },

  onLogout() {
    return auth.logout().then(() => this.setData({ user: null }), toast)
  },

  // showCaptcha is what utils/auth.js's onCaptcha calls: it shows the
  // captcha and resolves with its ticket, or rejects when it is closed.
  showCaptcha(captchaAppId) {
    return new Promise((resolve, reject) => {
      this.captcha = { resolve, reject }
      this.setData({ captchaAppId }, () => this.selectComponent('#captcha').show())
    })
  },
  onCaptchaVerify(e) { // e.detail: { ret, ticket }
    const pending = this.captcha
    this.captcha = null
    if (!pending) return
    if (e.detail.ret === 0) pending.resolve(e.detail.ticket)
    else pending.reject(new Error('captcha not passed'))
  },
  onCaptchaClose() {
    const pending = this.captcha
    this.captcha = null
    if (pending) pending.reject(new Error('captcha closed'))
  },

  signedIn(session) {
    this.setData({ user: session.user, code: '' })
    wx.showToast({ title: session.isNewUser ? '注册成功' : '登录成功' })
  },
  countDown(seconds) {
    clearInterval(this.timer)
    this.setData({ countdown: seconds })
    this.timer = setInterval(() => {
      const left = this.data.countdown - 1
      this.setData({ countdown: Math.max(left, 0) })
      if (left <= 0) clearInterval(this.timer)
    }, 1000)
  },
})
