package account

import "github.com/wxauth/scf-auth/pkg/store"

// NewSession is the session a login stores in the account it logs into:
// its id, its refresh secret (answered to the client, never stored) and
// the record the account keeps. Package session makes it.
type NewSession struct {
	ID     string
	Secret []byte
	Record store.Session
}
