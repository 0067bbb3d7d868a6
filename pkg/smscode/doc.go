// Package smscode keeps SMS login codes: the keys under which a phone's and
// a client's SMS state is stored (keyed hashes, never the number or the
// address in clear), and the single-use check of a code that phone-login
// and the phone link of the profile share.
package smscode
