// The one client of the mini-program: every page requires this module, so
// all of them share the stored session and its refresh.
const { createAuth } = require('scf-auth-miniprogram') // built by 构建npm; or require('./scf-auth') when copied here

module.exports = createAuth({
  baseUrl: 'https://auth.example.com',
  // The session ended elsewhere (logged out on another phone, the refresh
  // token revoked, the account disabled): back to the login page.
  onLogout() {
    wx.reLaunch({ url: '/pages/login/login' })
  },
  // A send needs a captcha: the page on top shows Tencent's captcha plugin
  // and resolves with its ticket.
  onCaptcha({ captchaAppId }) {
    const pages = getCurrentPages()
    return pages[pages.length - 1].showCaptcha(captchaAppId)
  },
})
