package store

import (
	"context"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Session is one login's session. While it exists, its access tokens are
// accepted; deleting it ends them at once. Gen counts refresh rotations:
// TokenHash is the hash of the current refresh secret, PrevHash that of the
// one it replaced at RotatedAt.
type Session struct {
	ID        string        `bson:"_id"`
	UserID    bson.ObjectID `bson:"userId"`
	Method    string        `bson:"method"`
	Gen       int           `bson:"gen"`
	TokenHash []byte        `bson:"tokenHash"`
	PrevHash  []byte        `bson:"prevHash,omitempty"`
	CreatedAt time.Time     `bson:"createdAt"`
	RotatedAt time.Time     `bson:"rotatedAt"`
	ExpiresAt time.Time     `bson:"expiresAt"`
}

// Rotation is the claim of one generation of a session's refresh token.
type Rotation struct {
	ID        string    `bson:"_id"`
	At        time.Time `bson:"at"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, sess *Session) error {
	sess.CreatedAt, sess.RotatedAt, sess.ExpiresAt = ms(sess.CreatedAt), ms(sess.RotatedAt), ms(sess.ExpiresAt)
	_, err := s.sessions.InsertOne(ctx, sess)
	return translate(err, nil)
}

// SessionByID returns the session if it has not expired at now.
func (s *Store) SessionByID(ctx context.Context, id string, now time.Time) (*Session, error) {
	var sess Session
	if err := s.sessions.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&sess); err != nil {
		return nil, translate(err, ErrSessionNotFound)
	}
	if !now.Before(sess.ExpiresAt) {
		return nil, ErrSessionNotFound
	}
	return &sess, nil
}

func rotationID(sessionID string, gen int) string {
	return sessionID + "." + strconv.Itoa(gen)
}

// ClaimRotation records that generation gen of the session is being issued
// at at. Exactly one caller per generation succeeds; the others get
// ErrDuplicate.
func (s *Store) ClaimRotation(ctx context.Context, sessionID string, gen int, at, expiresAt time.Time) (*Rotation, error) {
	r := &Rotation{ID: rotationID(sessionID, gen), At: ms(at), ExpiresAt: ms(expiresAt)}
	if _, err := s.rotations.InsertOne(ctx, r); err != nil {
		return nil, translate(err, nil)
	}
	return r, nil
}

// RotationOf returns the claim of generation gen of the session.
func (s *Store) RotationOf(ctx context.Context, sessionID string, gen int) (*Rotation, error) {
	var r Rotation
	if err := s.rotations.FindOne(ctx, bson.D{{Key: "_id", Value: rotationID(sessionID, gen)}}).Decode(&r); err != nil {
		return nil, translate(err, ErrSessionNotFound)
	}
	return &r, nil
}

// AdvanceSession moves a session from generation gen-1 to the state in
// next. Only the holder of gen's rotation claim calls it. ErrSessionNotFound
// means the session ended meanwhile.
func (s *Store) AdvanceSession(ctx context.Context, next *Session) error {
	filter := bson.D{{Key: "_id", Value: next.ID}, {Key: "gen", Value: next.Gen - 1}}
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "gen", Value: next.Gen},
		{Key: "tokenHash", Value: next.TokenHash},
		{Key: "prevHash", Value: next.PrevHash},
		{Key: "rotatedAt", Value: ms(next.RotatedAt)},
		{Key: "expiresAt", Value: ms(next.ExpiresAt)},
	}}}
	res, err := s.sessions.UpdateOne(ctx, filter, update)
	if err != nil {
		return translate(err, nil)
	}
	if res.MatchedCount == 0 {
		return ErrSessionNotFound
	}
	return nil
}

// DeleteSession ends a session; it reports whether the session existed.
func (s *Store) DeleteSession(ctx context.Context, id string) (bool, error) {
	res, err := s.sessions.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return false, translate(err, nil)
	}
	return res.DeletedCount == 1, nil
}

// DeleteUserSessions ends every session of a user.
func (s *Store) DeleteUserSessions(ctx context.Context, userID bson.ObjectID) (int64, error) {
	res, err := s.sessions.DeleteMany(ctx, bson.D{{Key: "userId", Value: userID}})
	if err != nil {
		return 0, translate(err, nil)
	}
	return res.DeletedCount, nil
}
