// Command wx-login is the SCF function behind POST /wx-login: it logs a
// user in (or signs them up) with a wx.login() code.
package main

import "github.com/wxauth/scf-auth/pkg/app"

func main() { app.Run("wx-login", newHandler) }
