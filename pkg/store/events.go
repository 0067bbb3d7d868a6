package store

import (
	"context"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Event is one security event of an account (API.md §4 "Sessions and
// security events"). The account's own document keeps its last MaxEvents,
// each written by the same command as the change it records, so reading
// them costs nothing more than reading the account; every event but a
// login is also in the audit trail (audit.go).
type Event struct {
	Type string    `bson:"type"`
	At   time.Time `bson:"at"`
	// Method is how a session signed in (signup, login, and the session a
	// revocation ended), or which way to log in a link or unlink concerns
	// (MethodPhone, MethodWeChat).
	Method string `bson:"method,omitempty"`
	// Client describes the client of the request that made the change.
	Client string `bson:"client,omitempty"`
}

// The types of events. Those up to EventLogoutAll are the account's own,
// which its owner reads; the others are operators' actions and deletions,
// kept in the audit trail only.
const (
	EventSignup         = "signup"
	EventLogin          = "login"
	EventLink           = "link"
	EventUnlink         = "unlink"
	EventPhoneChange    = "phone-change"
	EventSessionRevoked = "session-revoked"
	EventRefreshReuse   = "refresh-reuse"
	EventLogoutAll      = "logout-all"

	EventAccountDeleted  = "account-deleted"
	EventAccountDisabled = "account-disabled"
	EventAccountEnabled  = "account-enabled"
	EventAccountExported = "account-exported"
)

// The ways to log in that link and unlink events name.
const (
	MethodPhone  = "phone"
	MethodWeChat = "wechat"
)

// MaxEvents is how many events an account's document keeps.
const MaxEvents = 20

// RecentEvents are the account's last MaxEvents events, newest first: in
// the reverse of the order they were written, which is the order the
// changes happened in, whatever the clocks of the instances that wrote
// them said.
func (u *User) RecentEvents() []Event {
	events := slices.Clone(u.Events)
	slices.Reverse(events)
	if len(events) > MaxEvents {
		events = events[:MaxEvents]
	}
	return events
}

// Origin is where a change comes from: a short description of the client
// of the request that makes it (never its address in full), and the
// operator for a command of the operators' tool. It is a value of the
// request, so it travels in ctx (WithOrigin), as the logger does, and
// the store stamps every event it records with it: no caller can forget
// to say where a change came from, and none has to pass it down.
type Origin struct {
	Client   string
	Operator string
}

type originKey struct{}

// WithOrigin returns ctx carrying o.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns the origin ctx carries; the zero Origin when none.
func OriginFrom(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}

// newEvent is an event of type typ happening now, from ctx's origin.
func newEvent(ctx context.Context, typ, method string, now time.Time) Event {
	return Event{Type: typ, At: ms(now), Method: method, Client: OriginFrom(ctx).Client}
}

// pushEvent is the update element adding ev to an account's events,
// keeping the last MaxEvents. The embedded database ignores $slice and
// keeps them all; RecentEvents reads the last MaxEvents either way.
func pushEvent(ev Event) bson.E {
	ev.At = ms(ev.At)
	return bson.E{Key: "$push", Value: bson.D{{Key: "events", Value: bson.D{
		{Key: "$each", Value: bson.A{ev}},
		{Key: "$slice", Value: -MaxEvents},
	}}}}
}
