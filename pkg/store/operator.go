package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// SetDisabled does what an operator does by hand in the database:
//
//	db.users.updateOne({_id: ObjectId("…")}, {$set: {disabled: true}})
//
// It exists for tests and tools; no function calls it.
func (s *Store) SetDisabled(ctx context.Context, id bson.ObjectID, disabled bool) error {
	return s.SetField(ctx, id, "disabled", disabled)
}

// SetField sets one field of a user as an operator would by hand, for
// tests and tools.
func (s *Store) SetField(ctx context.Context, id bson.ObjectID, field string, value any) error {
	_, err := s.users.UpdateOne(ctx, byID(id), bson.D{{Key: "$set", Value: bson.D{{Key: field, Value: value}}}})
	return translate(err, nil)
}

// CountUsers counts the accounts (tombstones excluded) matching filter,
// for tests and tools. It scans: no function calls it.
func (s *Store) CountUsers(ctx context.Context, filter bson.D) (int64, error) {
	n, err := s.users.CountDocuments(ctx, append(filter, live))
	return n, translate(err, nil)
}

// DisableUser disables (or enables again) a live account for an operator,
// after the audit entry naming them. Its sessions stay, refused while it
// is disabled. ErrUserNotFound means there is no live account with id.
func (s *Store) DisableUser(ctx context.Context, id bson.ObjectID, disabled bool, now time.Time) error {
	typ := EventAccountEnabled
	if disabled {
		typ = EventAccountDisabled
	}
	if err := s.audit(ctx, id, newEvent(ctx, typ, "", now), auditNote{}); err != nil {
		return err
	}
	res, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, live}, bson.D{{Key: "$set", Value: bson.D{{Key: "disabled", Value: disabled}}}})
	if err != nil {
		return translate(err, nil)
	}
	if res.MatchedCount == 0 {
		return ErrUserNotFound
	}
	return nil
}
