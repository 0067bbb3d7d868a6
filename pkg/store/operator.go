package store

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// SetDisabled does what an operator does by hand in the database:
//
//	db.users.updateOne({_id: ObjectId("…")}, {$set: {disabled: true}})
//
// It exists for tests and tools; no function calls it.
func (s *Store) SetDisabled(ctx context.Context, id bson.ObjectID, disabled bool) error {
	_, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "disabled", Value: disabled}}}})
	return translate(err, nil)
}

// SetField sets one field of a user as an operator would by hand, for
// tests and tools.
func (s *Store) SetField(ctx context.Context, id bson.ObjectID, field string, value any) error {
	_, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: field, Value: value}}}})
	return translate(err, nil)
}

// CountSessions counts the sessions matching filter, for tests and tools.
func (s *Store) CountSessions(ctx context.Context, filter bson.D) (int64, error) {
	n, err := s.sessions.CountDocuments(ctx, filter)
	return n, translate(err, nil)
}
