package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wxauth/scf-auth/pkg/session"
)

// show prints the account, its live sessions and its recent events.
func show(ctx context.Context, t *tool, inv *invocation) error {
	u, err := t.find(ctx, inv)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(t.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "account\t%s\n", u.ID.Hex())
	if u.IsDeleted() {
		fmt.Fprintf(w, "status\tdeleted %s\n", stamp(*u.DeletedAt))
		return w.Flush()
	}
	status := "enabled"
	if u.IsDisabled() {
		status = "disabled"
	}
	fmt.Fprintf(w, "status\t%s\n", status)
	fmt.Fprintf(w, "phone\t%s\n", orNone(u.Phone, "+"+u.CountryCode+" "+u.Phone))
	if u.HasWeChat() {
		for _, app := range u.WeChatApps() {
			fmt.Fprintf(w, "wechat\t%s: openid %s\n", app, u.OpenIDIn(app))
		}
		fmt.Fprintf(w, "unionid\t%s\n", orNone(u.UnionID(), u.UnionID()))
	} else {
		fmt.Fprintf(w, "wechat\tnone\n")
	}
	fmt.Fprintf(w, "nickname\t%s\n", u.Nickname)
	fmt.Fprintf(w, "created\t%s\n", stamp(u.CreatedAt))
	fmt.Fprintf(w, "updated\t%s\n", stamp(u.UpdatedAt))
	if err := w.Flush(); err != nil {
		return err
	}

	now := t.now()
	var ids []string
	for id := range u.Sessions {
		if _, ok := u.LiveSession(id, now); ok {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return u.Sessions[ids[i]].CreatedAt.After(u.Sessions[ids[j]].CreatedAt) })
	fmt.Fprintf(t.out, "\nsessions: %d live\n", len(ids))
	w = tabwriter.NewWriter(t.out, 0, 4, 2, ' ', 0)
	if len(ids) > 0 {
		fmt.Fprintln(w, "  id\tmethod\tclient\tsigned in\tlast used\texpires")
	}
	for _, id := range ids {
		s := u.Sessions[id]
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\n", id, session.PublicMethod(s.Method), orDash(s.Client), stamp(s.CreatedAt), stamp(s.RotatedAt), stamp(s.ExpiresAt))
	}
	if err := w.Flush(); err != nil {
		return err
	}

	events := u.RecentEvents()
	fmt.Fprintf(t.out, "\nrecent events: %d, newest first\n", len(events))
	w = tabwriter.NewWriter(t.out, 0, 4, 2, ' ', 0)
	for _, e := range events {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", stamp(e.At), e.Type, orDash(session.PublicMethod(e.Method)), orDash(e.Client))
	}
	return w.Flush()
}

// auditTrail prints the account's audit trail, oldest first.
func auditTrail(ctx context.Context, t *tool, inv *invocation) error {
	u, err := t.find(ctx, inv)
	if err != nil {
		return err
	}
	entries, err := t.store.AuditTrail(ctx, u.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(t.out, "audit trail of account %s: %d entries, oldest first\n", u.ID.Hex(), len(entries))
	w := tabwriter.NewWriter(t.out, 0, 4, 2, ' ', 0)
	for _, e := range entries {
		var notes []string
		if e.Operator != "" {
			notes = append(notes, "by "+e.Operator)
		}
		if e.PreviousPhone != "" {
			notes = append(notes, "from "+e.PreviousPhone)
		}
		if e.Phone != "" {
			notes = append(notes, "phone "+e.Phone)
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\n", stamp(e.At), e.Type, orDash(session.PublicMethod(e.Method)), orDash(e.Client), strings.Join(notes, ", "))
	}
	return w.Flush()
}

// stamp shows a time as operators read logs: RFC 3339, in UTC.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// orNone is shown when v is set, else "none".
func orNone(v, shown string) string {
	if v == "" {
		return "none"
	}
	return shown
}
