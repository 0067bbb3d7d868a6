package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/wxauth/scf-auth/pkg/store"
)

// The commands that change an account. Each finds it, asks the operator
// to confirm (unless -yes), and makes its change through the store, which
// writes the audit entry naming the operator first, as for the functions'
// own changes.

// live finds the account of an invocation, refusing a deleted one.
func (t *tool) live(ctx context.Context, inv *invocation) (*store.User, error) {
	u, err := t.find(ctx, inv)
	if err == nil && u.IsDeleted() {
		err = fmt.Errorf("account %s was deleted at %s", u.ID.Hex(), stamp(*u.DeletedAt))
	}
	return u, err
}

// setDisabled disables or enables the account. Disabling keeps its
// sessions, refused while it lasts: enabling it again lets them go on.
func setDisabled(disabled bool) func(context.Context, *tool, *invocation) error {
	return func(ctx context.Context, t *tool, inv *invocation) error {
		u, err := t.live(ctx, inv)
		if err != nil {
			return err
		}
		if u.IsDisabled() == disabled {
			fmt.Fprintf(t.out, "%s is %s already: nothing changed.\n", summary(u), map[bool]string{true: "disabled", false: "enabled"}[disabled])
			return nil
		}
		question := fmt.Sprintf("Disable %s? Its logins, refreshes, tokens and SMS codes will answer ACCOUNT_DISABLED.", summary(u))
		if !disabled {
			question = fmt.Sprintf("Enable %s again?", summary(u))
		}
		if !t.confirm(inv, question) {
			return errAborted
		}
		if err := t.store.DisableUser(asOperator(ctx, inv), u.ID, disabled, t.now()); err != nil {
			return err
		}
		verb := "disabled"
		if !disabled {
			verb = "enabled"
		}
		fmt.Fprintf(t.out, "%s %s by %s.\n", summary(u), verb, inv.by)
		return nil
	}
}

// logout ends every session of the account.
func logout(ctx context.Context, t *tool, inv *invocation) error {
	u, err := t.live(ctx, inv)
	if err != nil {
		return err
	}
	n := 0
	for id := range u.Sessions {
		if _, ok := u.LiveSession(id, t.now()); ok {
			n++
		}
	}
	if !t.confirm(inv, fmt.Sprintf("End the %d live sessions of %s? Its tokens will be refused at once.", n, summary(u))) {
		return errAborted
	}
	there, err := t.store.EndSessionsOf(asOperator(ctx, inv), u.ID, t.now())
	if err != nil {
		return err
	}
	if !there {
		return errors.New("the account was deleted meanwhile")
	}
	fmt.Fprintf(t.out, "%d sessions of %s ended by %s.\n", n, summary(u), inv.by)
	return nil
}

// deleteAccount deletes the account as DELETE /profile does: its document
// becomes a tombstone (its sessions and tokens end at once), then its
// identities are released, free at once for a new account. The SMS
// records of its phone stay until they expire: abuse records, not account
// data. Unlike its owner, an operator may delete a disabled account.
func deleteAccount(ctx context.Context, t *tool, inv *invocation) error {
	u, err := t.live(ctx, inv)
	if err != nil {
		return err
	}
	if !t.confirm(inv, fmt.Sprintf("Delete %s? Its profile and sessions are gone for good; its phone and WeChat become free.", summary(u))) {
		return errAborted
	}
	ctx = asOperator(ctx, inv)
	gone, err := t.store.DeleteUserEvenIfDisabled(ctx, u.ID, t.now())
	if errors.Is(err, store.ErrConflict) {
		return errors.New("the account was deleted meanwhile")
	}
	if err != nil {
		return err
	}
	for _, id := range gone.Identities() {
		lease, _ := gone.LeaseOf(id)
		if _, err := t.store.Release(ctx, id, lease); err != nil {
			fmt.Fprintf(t.errOut, "admin: the %s claim was not released (%v); the next login with it releases it\n", id.Kind(), err)
		}
	}
	fmt.Fprintf(t.out, "%s deleted by %s.\n", summary(gone), inv.by)
	return nil
}
