// Command token is the SCF function behind /token: it rotates refresh
// tokens (POST /token/refresh) and ends sessions (POST /token/logout).
package main

import "github.com/wxauth/scf-auth/pkg/app"

func main() { app.Run("token", newHandler) }
