// Command profile is the SCF function behind /profile: the caller reads
// (GET), edits (PATCH, or PUT) and deletes (DELETE) their own account.
package main

import "github.com/wxauth/scf-auth/pkg/app"

func main() { app.Run("profile", newHandler) }
