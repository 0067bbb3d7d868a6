// Command phone-number-login is the SCF function behind
// POST /phone-number-login: it logs a user in with WeChat's phone-number
// button (getPhoneNumber), binding the number and the WeChat identity.
package main

import "github.com/wxauth/scf-auth/pkg/app"

func main() { app.Run("phone-number-login", newHandler) }
