// Command token is the SCF function behind /token: it rotates refresh
// tokens (POST /token/refresh), ends sessions (POST /token/logout),
// publishes the keys that verify access tokens (GET /token/jwks) and
// tells the team's other services whether a token is live (POST
// /token/introspect).
package main

import "github.com/wxauth/scf-auth/pkg/app"

func main() { app.Run("token", newHandler) }
