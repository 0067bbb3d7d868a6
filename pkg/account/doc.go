// Package account holds what the login and profile functions share about
// accounts: the User object clients see, the rules for editable profile
// fields, and the resolution of a phone number and WeChat identities to one
// account (log in, create, link, or refuse with nothing changed).
//
// # One account per identity
//
// An identity (a phone number, an app's openid, a unionid) belongs to an
// account when its claim, a document whose _id is the identity, names the
// account and the account lists the identity. The rule that keeps this to
// one account, without transactions, is an order of single-document
// writes: a claim is inserted (or, when it is already the account's,
// re-stamped) before the account lists the identity, and removed after the
// account stopped listing it. So an account never lists an identity whose
// claim names another, and the insert gives each identity one claim.
//
// Every claim carries a lease, a random value of the request that made or
// re-stamped it, which the account records beside the identity; a claim is
// removed only by naming its lease: an unlink names the lease the account
// recorded, a request that gives up names its own. A request that changes
// the account's identities on an older view of them therefore cannot
// remove a claim another request has since taken over. A request that
// gives up releases only the claims it made; one it re-stamped (the
// account's own claim, of a link of the account cut short or still at
// work) it hands back to the lease the claim had, or the account records.
// A link made for a login applies only while the account still holds
// what the login proved.
//
// A crash between two writes leaves a claim its account does not list:
// a creation cut short (no account: it is sealed with a tombstone, which
// no creation can then complete, and released), a link or unlink cut short
// (released once older than any request runs), or a deletion cut short
// (released at once). The request that meets one settles it (claims.go);
// the account, never the claim alone, says who holds an identity.
package account
