package store

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// User is an account: its profile, the login identities it holds (phone,
// WeChat) and its sessions. The identities it lists are its own; identity
// documents (identities.go) keep each one held by one account at most. A
// deleted account leaves a tombstone holding only its id and DeletedAt, so
// that no id is ever used twice.
type User struct {
	ID          bson.ObjectID `bson:"_id"`
	CountryCode string        `bson:"countryCode,omitempty"`
	Phone       string        `bson:"phone,omitempty"`
	WeChat      *WeChat       `bson:"wechat,omitempty"`
	Nickname    string        `bson:"nickname"`
	AvatarURL   string        `bson:"avatarUrl"`
	Gender      int           `bson:"gender"`
	// Birthday is YYYY-MM-DD, or empty when unknown.
	Birthday string `bson:"birthday,omitempty"`
	Bio      string `bson:"bio"`
	Points   int64  `bson:"points"`
	// Disabled is set by an operator directly in the database.
	Disabled OperatorFlag `bson:"disabled,omitempty"`
	// Sessions are the account's live sessions by id (sessions.go).
	Sessions map[string]Session `bson:"sessions,omitempty"`
	// Events are the account's last security events, oldest first
	// (events.go).
	Events    []Event    `bson:"events,omitempty"`
	CreatedAt time.Time  `bson:"createdAt"`
	UpdatedAt time.Time  `bson:"updatedAt"`
	DeletedAt *time.Time `bson:"deletedAt,omitempty"`
}

// WeChat is the WeChat identity bound to a user. session_key is never kept.
type WeChat struct {
	OpenID  string `bson:"openid"`
	UnionID string `bson:"unionid,omitempty"`
}

// IsDisabled reports whether an operator disabled the account.
func (u *User) IsDisabled() bool { return bool(u.Disabled) }

// IsDeleted reports whether this is the tombstone of a deleted account.
func (u *User) IsDeleted() bool { return u.DeletedAt != nil }

// HasPhone reports whether a phone number is bound.
func (u *User) HasPhone() bool { return u.Phone != "" }

// HasWeChat reports whether a WeChat identity is bound.
func (u *User) HasWeChat() bool { return u.WeChat != nil && u.WeChat.OpenID != "" }

// Identities lists the identities the account holds.
func (u *User) Identities() []Identity {
	if u.IsDeleted() {
		return nil
	}
	var ids []Identity
	if u.HasPhone() {
		ids = append(ids, PhoneIdentity(u.CountryCode, u.Phone))
	}
	if u.HasWeChat() {
		ids = append(ids, OpenIDIdentity(u.WeChat.OpenID))
		if u.WeChat.UnionID != "" {
			ids = append(ids, UnionIDIdentity(u.WeChat.UnionID))
		}
	}
	return ids
}

// Holds reports whether the account lists identity id as its own.
func (u *User) Holds(id Identity) bool {
	for _, have := range u.Identities() {
		if have == id {
			return true
		}
	}
	return false
}

// NewUser returns a fresh account created now, with a new id.
func NewUser(now time.Time) *User {
	now = ms(now)
	return &User{ID: bson.NewObjectID(), CreatedAt: now, UpdatedAt: now}
}

func afterUpdate() *options.FindOneAndUpdateOptionsBuilder {
	return options.FindOneAndUpdate().SetReturnDocument(options.After)
}

// CreateUser stores a new account, with its signup among its events (and
// first in the audit trail): how its first session signed in, or nothing
// more than the time for an account completed from the claims of a
// creation cut short. ErrDuplicate means an account with this id exists
// already: another request completed the same creation.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	u.CreatedAt, u.UpdatedAt = ms(u.CreatedAt), ms(u.UpdatedAt)
	signup := Event{Type: EventSignup, At: u.CreatedAt}
	for id, sess := range u.Sessions {
		u.Sessions[id] = sess.stored()
		signup.Method, signup.Client = sess.Method, sess.Client
	}
	if len(u.Sessions) > 1 {
		signup.Method, signup.Client = "", ""
	}
	if len(u.Events) == 0 || u.Events[0].Type != EventSignup {
		u.Events = append([]Event{signup}, u.Events...)
	}
	if err := s.audit(ctx, u.ID, u.Events[0], auditNote{phone: u.Phone}); err != nil {
		return err
	}
	_, err := s.users.InsertOne(ctx, u)
	return translate(err, nil)
}

// UserByID returns the account with id, or its tombstone.
func (s *Store) UserByID(ctx context.Context, id bson.ObjectID) (*User, error) {
	var u User
	if err := s.users.FindOne(ctx, byID(id)).Decode(&u); err != nil {
		return nil, translate(err, ErrUserNotFound)
	}
	return &u, nil
}

// live matches an account that is not a tombstone.
var live = bson.E{Key: "deletedAt", Value: absent}

// ProfileChanges are the editable fields a request sent; nil means unsent.
// Birthday set to "" clears it.
type ProfileChanges struct {
	Nickname  *string
	AvatarURL *string
	Gender    *int
	Birthday  *string
	Bio       *string
}

// Empty reports whether nothing is to change.
func (c ProfileChanges) Empty() bool {
	return c.Nickname == nil && c.AvatarURL == nil && c.Gender == nil && c.Birthday == nil && c.Bio == nil
}

// UpdateProfile applies changes to an enabled account on behalf of its
// session sid, in one round trip: the update itself checks that the
// session is live and the account enabled. ErrConflict means it is not
// (the caller reads the account to say which).
func (s *Store) UpdateProfile(ctx context.Context, id bson.ObjectID, sid string, c ProfileChanges, now time.Time) (*User, error) {
	set := bson.D{{Key: "updatedAt", Value: ms(now)}}
	var unset bson.D
	if c.Nickname != nil {
		set = append(set, bson.E{Key: "nickname", Value: *c.Nickname})
	}
	if c.AvatarURL != nil {
		set = append(set, bson.E{Key: "avatarUrl", Value: *c.AvatarURL})
	}
	if c.Gender != nil {
		set = append(set, bson.E{Key: "gender", Value: *c.Gender})
	}
	if c.Bio != nil {
		set = append(set, bson.E{Key: "bio", Value: *c.Bio})
	}
	if c.Birthday != nil && *c.Birthday != "" {
		set = append(set, bson.E{Key: "birthday", Value: *c.Birthday})
	} else if c.Birthday != nil {
		unset = bson.D{{Key: "birthday", Value: ""}}
	}
	update := bson.D{{Key: "$set", Value: set}}
	if unset != nil {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	filter := bson.D{{Key: "_id", Value: id}, live, enabled}
	if sid != "" {
		filter = append(filter, bson.E{Key: sessionField(sid, "expiresAt"), Value: bson.D{{Key: "$gt", Value: ms(now)}}})
	}
	return s.updateUser(ctx, filter, update)
}

// FillNameAndAvatar sets the nickname and avatar of an account where they
// are still empty; empty arguments are left alone.
func (s *Store) FillNameAndAvatar(ctx context.Context, u *User, nickname, avatarURL string, now time.Time) (*User, error) {
	filter := bson.D{{Key: "_id", Value: u.ID}, live}
	var set bson.D
	if nickname != "" && u.Nickname == "" {
		set = append(set, bson.E{Key: "nickname", Value: nickname})
		filter = append(filter, bson.E{Key: "nickname", Value: ""})
	}
	if avatarURL != "" && u.AvatarURL == "" {
		set = append(set, bson.E{Key: "avatarUrl", Value: avatarURL})
		filter = append(filter, bson.E{Key: "avatarUrl", Value: ""})
	}
	if set == nil {
		return u, nil
	}
	set = append(set, bson.E{Key: "updatedAt", Value: ms(now)})
	updated, err := s.updateUser(ctx, filter, bson.D{{Key: "$set", Value: set}})
	if errors.Is(err, ErrConflict) {
		return u, nil // changed meanwhile: what is there stays
	}
	return updated, err
}

// DeleteUser replaces an enabled account by its tombstone and returns what
// it was: its profile and sessions are gone at once, and so are its
// tokens. The audit trail, written first, keeps the deletion. ErrConflict
// means it is gone or disabled already.
func (s *Store) DeleteUser(ctx context.Context, id bson.ObjectID, now time.Time) (*User, error) {
	return s.deleteUser(ctx, bson.D{{Key: "_id", Value: id}, live, enabled}, id, now)
}

// DeleteUserEvenIfDisabled is DeleteUser for an operator, who may delete a
// disabled account too. ErrConflict means it is gone already.
func (s *Store) DeleteUserEvenIfDisabled(ctx context.Context, id bson.ObjectID, now time.Time) (*User, error) {
	return s.deleteUser(ctx, bson.D{{Key: "_id", Value: id}, live}, id, now)
}

func (s *Store) deleteUser(ctx context.Context, filter bson.D, id bson.ObjectID, now time.Time) (*User, error) {
	if err := s.audit(ctx, id, newEvent(ctx, EventAccountDeleted, "", now), auditNote{}); err != nil {
		return nil, err
	}
	var before User
	if err := s.users.FindOneAndReplace(ctx, filter, tombstone(id, now)).Decode(&before); err != nil {
		return nil, translate(err, ErrConflict)
	}
	return &before, nil
}

// SealUser makes id a tombstone, whether or not an account was inserted
// under it: the creation of an account that was given up can then never
// be completed by another request. It reports whether an account was
// there (completed meanwhile, and now gone).
func (s *Store) SealUser(ctx context.Context, id bson.ObjectID, now time.Time) (bool, error) {
	res, err := s.users.ReplaceOne(ctx, byID(id), tombstone(id, now), options.Replace().SetUpsert(true))
	if err != nil {
		return false, translate(err, nil)
	}
	return res.MatchedCount > 0, nil
}

// tombstone is what stays of an account id once it is gone: the id, so
// that it is never used again, and when.
func tombstone(id bson.ObjectID, now time.Time) bson.D {
	return bson.D{{Key: "_id", Value: id}, {Key: "deletedAt", Value: ms(now)}}
}

func (s *Store) updateUser(ctx context.Context, filter, update bson.D) (*User, error) {
	var u User
	if err := s.users.FindOneAndUpdate(ctx, filter, update, afterUpdate()).Decode(&u); err != nil {
		return nil, translate(err, ErrConflict)
	}
	return &u, nil
}
