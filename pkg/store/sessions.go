package store

import (
	"context"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Session is one login's session, kept in its account's document under
// its id, so that reading the account also checks the session: one round
// trip. While it is there and unexpired, its access tokens are accepted;
// removing it ends them at once. Gen counts refresh rotations: TokenHash
// is the hash of the current refresh secret, PrevHash that of the one it
// replaced at RotatedAt.
type Session struct {
	Gen       int       `bson:"gen"`
	TokenHash []byte    `bson:"tokenHash"`
	PrevHash  []byte    `bson:"prevHash,omitempty"`
	Method    string    `bson:"method"`
	CreatedAt time.Time `bson:"createdAt"`
	RotatedAt time.Time `bson:"rotatedAt"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// MaxSessions bounds the sessions of one account: past it, the ones used
// least recently are ended when another starts.
const MaxSessions = 10

func (s Session) stored() Session {
	s.CreatedAt, s.RotatedAt, s.ExpiresAt = ms(s.CreatedAt), ms(s.RotatedAt), ms(s.ExpiresAt)
	return s
}

// sessionField is the path of a session's field in the account document.
// Session ids are base64url, which has no '.' or '$'.
func sessionField(sid string, field ...string) string {
	p := "sessions." + sid
	for _, f := range field {
		p += "." + f
	}
	return p
}

// unsetSessions is the $unset of the sessions sids.
func unsetSessions(sids []string) bson.D {
	unset := make(bson.D, len(sids))
	for i, sid := range sids {
		unset[i] = bson.E{Key: sessionField(sid), Value: ""}
	}
	return unset
}

// LiveSession returns the session sid of the account if it is unexpired.
func (u *User) LiveSession(sid string, now time.Time) (Session, bool) {
	sess, ok := u.Sessions[sid]
	if !ok || u.IsDeleted() || !now.Before(sess.ExpiresAt) {
		return Session{}, false
	}
	return sess, true
}

// StaleSessions lists the sessions to end when the account is next
// written: the expired ones, and beyond MaxSessions the least recently
// used. keep is never listed.
func (u *User) StaleSessions(now time.Time, keep string) []string {
	type entry struct {
		id   string
		used time.Time
	}
	var stale []string
	var live []entry
	for id, sess := range u.Sessions {
		switch {
		case id == keep:
		case !now.Before(sess.ExpiresAt):
			stale = append(stale, id)
		default:
			live = append(live, entry{id, sess.RotatedAt})
		}
	}
	if over := len(live) + 1 - MaxSessions; over > 0 {
		sort.Slice(live, func(i, j int) bool { return live[i].used.Before(live[j].used) })
		for _, e := range live[:over] {
			stale = append(stale, e.id)
		}
	}
	sort.Strings(stale)
	return stale
}

// AddSession stores session sid in the account, if it is live, enabled
// and lists every identity of holds, and returns the account as it is
// then, in one round trip. ErrConflict means it is not (or there is no
// such account): the caller reads it to see why.
func (s *Store) AddSession(ctx context.Context, userID bson.ObjectID, holds []Identity, sid string, sess Session) (*User, error) {
	filter := append(bson.D{{Key: "_id", Value: userID}, live, enabled}, holding(holds)...)
	update := bson.D{{Key: "$set", Value: bson.D{{Key: sessionField(sid), Value: sess.stored()}}}}
	return s.updateUser(ctx, filter, update)
}

// RemoveSessions ends the named sessions of an account. It reports
// whether any of them was there.
func (s *Store) RemoveSessions(ctx context.Context, userID bson.ObjectID, sids ...string) (bool, error) {
	if len(sids) == 0 {
		return false, nil
	}
	res, err := s.users.UpdateOne(ctx, byID(userID), bson.D{{Key: "$unset", Value: unsetSessions(sids)}})
	if err != nil {
		return false, translate(err, nil)
	}
	return res.ModifiedCount > 0, nil
}

// EndAllSessions ends every session of the account, on behalf of its
// session sid, which must still be there: a token of an ended session
// cannot end the others. It reports whether sid was there.
func (s *Store) EndAllSessions(ctx context.Context, userID bson.ObjectID, sid string) (bool, error) {
	filter := bson.D{{Key: "_id", Value: userID}, {Key: sessionField(sid), Value: exists}}
	res, err := s.users.UpdateOne(ctx, filter, bson.D{{Key: "$unset", Value: bson.D{{Key: "sessions", Value: ""}}}})
	if err != nil {
		return false, translate(err, nil)
	}
	return res.MatchedCount > 0, nil
}

// RotateSession moves session sid from generation from to next, and ends
// the stale sessions listed, in one conditional update: of concurrent
// rotations of one generation exactly one succeeds. false means the
// session is gone or moved on meanwhile.
func (s *Store) RotateSession(ctx context.Context, userID bson.ObjectID, sid string, from int, next Session, stale []string) (bool, error) {
	filter := bson.D{{Key: "_id", Value: userID}, {Key: sessionField(sid, "gen"), Value: from}}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: sessionField(sid), Value: next.stored()}}}}
	if len(stale) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: unsetSessions(stale)})
	}
	res, err := s.users.UpdateOne(ctx, filter, update)
	if err != nil {
		return false, translate(err, nil)
	}
	return res.MatchedCount > 0, nil
}
