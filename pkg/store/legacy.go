package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Refresh tokens issued before sessions moved into the account document
// name their session but not its account. The upgrade (scripts/migrate)
// copies each such session into its account and records here which account
// it went to; a refresh with such a token looks it up once, and from then on
// the rotated token names its account. Entries expire with their sessions.
type legacySession struct {
	ID        string        `bson:"_id"`
	UserID    bson.ObjectID `bson:"userId"`
	ExpiresAt time.Time     `bson:"expiresAt"`
}

// LegacySessionOwner returns the account of a session from before the
// upgrade; ErrSessionNotFound when unknown or expired.
func (s *Store) LegacySessionOwner(ctx context.Context, sid string, now time.Time) (bson.ObjectID, error) {
	var l legacySession
	if err := s.legacySessions.FindOne(ctx, byID(sid)).Decode(&l); err != nil {
		return bson.ObjectID{}, translate(err, ErrSessionNotFound)
	}
	if !now.Before(l.ExpiresAt) {
		return bson.ObjectID{}, ErrSessionNotFound
	}
	return l.UserID, nil
}

// SaveLegacySession records the account of a session from before the
// upgrade. Saving the same again changes nothing.
func (s *Store) SaveLegacySession(ctx context.Context, sid string, userID bson.ObjectID, expiresAt time.Time) error {
	l := legacySession{ID: sid, UserID: userID, ExpiresAt: ms(expiresAt)}
	return upsert(func() error {
		_, err := s.legacySessions.ReplaceOne(ctx, byID(sid), l, options.Replace().SetUpsert(true))
		return err
	})
}
