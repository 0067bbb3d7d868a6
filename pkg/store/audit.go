package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/phone"
)

// AuditEntry is one entry of the audit trail: a security event of an
// account, with what operators need and its owner does not see (the
// operator who acted, masked numbers). The audit collection is
// insert-only: the functions write it and never read it; operators read
// it (scripts/admin), and it expires after AUDIT_RETENTION.
//
// Its _id starts with the account's id and the time, so that one
// account's trail is a range of the primary key, read without an index on
// any server.
type AuditEntry struct {
	ID     string        `bson:"_id" json:"id"`
	UserID bson.ObjectID `bson:"userId" json:"userId"`
	Type   string        `bson:"type" json:"type"`
	At     time.Time     `bson:"at" json:"at"`
	Method string        `bson:"method,omitempty" json:"method,omitempty"`
	Client string        `bson:"client,omitempty" json:"client,omitempty"`
	// Operator names who ran an operators' command.
	Operator string `bson:"operator,omitempty" json:"operator,omitempty"`
	// Phone is the number an event concerns, masked (138****8000);
	// PreviousPhone the number a change replaced.
	Phone         string    `bson:"phone,omitempty" json:"phone,omitempty"`
	PreviousPhone string    `bson:"previousPhone,omitempty" json:"previousPhone,omitempty"`
	ExpiresAt     time.Time `bson:"expiresAt" json:"expiresAt"`
}

// auditNote is what an entry says besides its event: the numbers
// concerned, in clear until audit masks them.
type auditNote struct {
	phone, previous string
}

// audit writes the audit entry of ev, an event of account userID, before
// the change it records (see the package doc): so the trail never misses
// a change the account shows. A signup's entry has a fixed id, so the
// requests that may both create one account (its creator, and one that
// completes it after the creator was cut short) write it once.
func (s *Store) audit(ctx context.Context, userID bson.ObjectID, ev Event, note auditNote) error {
	e := AuditEntry{
		UserID: userID, Type: ev.Type, At: ms(ev.At), Method: ev.Method, Client: ev.Client,
		Operator: OriginFrom(ctx).Operator, ExpiresAt: ms(ev.At.Add(s.auditRetention)),
	}
	if note.phone != "" {
		e.Phone = phone.Mask(note.phone)
	}
	if note.previous != "" {
		e.PreviousPhone = phone.Mask(note.previous)
	}
	e.ID = auditID(userID, ev)
	_, err := s.auditLog.InsertOne(ctx, e)
	if err = translate(err, nil); errors.Is(err, ErrDuplicate) && ev.Type == EventSignup {
		return nil
	}
	return err
}

// auditID is the _id of an entry: the account, the time in milliseconds
// (fixed width, so that ids sort by time) and a random part; for a
// signup, the account and "signup".
func auditID(userID bson.ObjectID, ev Event) string {
	if ev.Type == EventSignup {
		return userID.Hex() + ":signup"
	}
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return fmt.Sprintf("%s:%013d:%s", userID.Hex(), ms(ev.At).UnixMilli(), hex.EncodeToString(b[:]))
}

// Audit writes an audit entry of an event that changes nothing in the
// account (an operator's export), stamped with ctx's origin.
func (s *Store) Audit(ctx context.Context, userID bson.ObjectID, typ string, now time.Time) error {
	return s.audit(ctx, userID, newEvent(ctx, typ, "", now), auditNote{})
}

// AuditTrail is the audit trail of an account, oldest first, for the
// operators' tool: a range of the primary key. No function reads it.
func (s *Store) AuditTrail(ctx context.Context, userID bson.ObjectID) ([]AuditEntry, error) {
	prefix := userID.Hex() + ":"
	filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: prefix}, {Key: "$lt", Value: userID.Hex() + ";"}}}}
	cur, err := s.auditLog.Find(ctx, filter)
	if err != nil {
		return nil, translate(err, nil)
	}
	var entries []AuditEntry
	if err := cur.All(ctx, &entries); err != nil {
		return nil, translate(err, nil)
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].At.Before(entries[j].At) })
	return entries, nil
}
