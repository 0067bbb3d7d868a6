// Command phone-login is the SCF function behind POST /phone-login: it logs
// a user in (or signs them up) with their phone number and SMS code.
package main

import "github.com/wxauth/scf-auth/pkg/app"

func main() { app.Run("phone-login", newHandler) }
