// Command send-sms is the SCF function behind POST /send-sms: it sends a
// 6-digit login code by SMS, within the cooldown and the caps.
package main

import "github.com/wxauth/scf-auth/pkg/app"

func main() { app.Run("send-sms", newHandler) }
