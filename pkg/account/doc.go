// Package account holds what the login and profile functions share about
// accounts: the User object clients see, the rules for editable profile
// fields, and the resolution of a phone number and a WeChat identity to one
// account (log in, create, bind, or refuse with nothing changed).
package account
