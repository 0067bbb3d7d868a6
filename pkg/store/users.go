package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// User is an account. Identities (phone, WeChat) are unique across users.
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
	Disabled  OperatorFlag `bson:"disabled,omitempty"`
	CreatedAt time.Time    `bson:"createdAt"`
	UpdatedAt time.Time    `bson:"updatedAt"`
}

// WeChat is the WeChat identity bound to a user. session_key is never kept.
type WeChat struct {
	OpenID  string `bson:"openid"`
	UnionID string `bson:"unionid,omitempty"`
}

// IsDisabled reports whether an operator disabled the account.
func (u *User) IsDisabled() bool { return bool(u.Disabled) }

// HasPhone reports whether a phone number is bound.
func (u *User) HasPhone() bool { return u.Phone != "" }

// HasWeChat reports whether a WeChat identity is bound.
func (u *User) HasWeChat() bool { return u.WeChat != nil && u.WeChat.OpenID != "" }

// NewUser returns a fresh account created now, with a new id.
func NewUser(now time.Time) *User {
	now = ms(now)
	return &User{ID: bson.NewObjectID(), CreatedAt: now, UpdatedAt: now}
}

func afterUpdate() *options.FindOneAndUpdateOptionsBuilder {
	return options.FindOneAndUpdate().SetReturnDocument(options.After)
}

// UserByID returns the user with id.
func (s *Store) UserByID(ctx context.Context, id bson.ObjectID) (*User, error) {
	var u User
	err := s.users.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&u)
	if err != nil {
		return nil, translate(err, ErrUserNotFound)
	}
	return &u, nil
}

// UserByOpenID returns the user bound to openid.
func (s *Store) UserByOpenID(ctx context.Context, openid string) (*User, error) {
	var u User
	err := s.users.FindOne(ctx, bson.D{{Key: "wechat.openid", Value: openid}}).Decode(&u)
	if err != nil {
		return nil, translate(err, ErrUserNotFound)
	}
	return &u, nil
}

// UserForPhone returns the user with the phone number, creating fresh (with
// the number) when there is none, in one round trip. created reports which.
// Concurrent first logins of one number create one user.
func (s *Store) UserForPhone(ctx context.Context, countryCode, phone string, fresh *User) (u *User, created bool, err error) {
	filter := bson.D{{Key: "countryCode", Value: countryCode}, {Key: "phone", Value: phone}}
	onInsert := bson.D{
		{Key: "_id", Value: fresh.ID},
		{Key: "nickname", Value: fresh.Nickname},
		{Key: "avatarUrl", Value: fresh.AvatarURL},
		{Key: "gender", Value: fresh.Gender},
		{Key: "bio", Value: fresh.Bio},
		{Key: "points", Value: fresh.Points},
		{Key: "createdAt", Value: ms(fresh.CreatedAt)},
		{Key: "updatedAt", Value: ms(fresh.UpdatedAt)},
	}
	update := bson.D{{Key: "$setOnInsert", Value: onInsert}}
	for attempt := 0; ; attempt++ {
		var got User
		err = s.users.FindOneAndUpdate(ctx, filter, update, afterUpdate().SetUpsert(true)).Decode(&got)
		if err == nil {
			return &got, got.ID == fresh.ID, nil
		}
		// A concurrent first login inserted the same number: read theirs.
		if err = translate(err, ErrUserNotFound); err != ErrDuplicate || attempt == 2 {
			return nil, false, err
		}
	}
}

// UsersWithIdentity returns the users holding the phone number or the
// WeChat identity (openid, or unionid when wx has one). Either may be nil.
func (s *Store) UsersWithIdentity(ctx context.Context, countryCode, phone string, wx *WeChat) ([]User, error) {
	var or bson.A
	if phone != "" {
		or = append(or, bson.D{{Key: "countryCode", Value: countryCode}, {Key: "phone", Value: phone}})
	}
	if wx != nil && wx.OpenID != "" {
		or = append(or, bson.D{{Key: "wechat.openid", Value: wx.OpenID}})
	}
	if wx != nil && wx.UnionID != "" {
		or = append(or, bson.D{{Key: "wechat.unionid", Value: wx.UnionID}})
	}
	if len(or) == 0 {
		return nil, nil
	}
	cur, err := s.users.Find(ctx, bson.D{{Key: "$or", Value: or}}, options.Find().SetLimit(4))
	if err != nil {
		return nil, translate(err, nil)
	}
	var users []User
	if err := cur.All(ctx, &users); err != nil {
		return nil, translate(err, nil)
	}
	return users, nil
}

// InsertUser stores a new user; ErrDuplicate when one of its identities is
// taken.
func (s *Store) InsertUser(ctx context.Context, u *User) error {
	u.CreatedAt, u.UpdatedAt = ms(u.CreatedAt), ms(u.UpdatedAt)
	_, err := s.users.InsertOne(ctx, u)
	return translate(err, nil)
}

// BindWeChat binds wx to a user that has no WeChat identity yet. It answers
// ErrDuplicate when wx belongs to another user and ErrConflict when the user
// is gone or got a WeChat identity meanwhile.
func (s *Store) BindWeChat(ctx context.Context, id bson.ObjectID, wx WeChat, now time.Time) (*User, error) {
	filter := bson.D{{Key: "_id", Value: id}, {Key: "wechat", Value: bson.D{{Key: "$exists", Value: false}}}}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "wechat", Value: wx}, {Key: "updatedAt", Value: ms(now)}}}}
	return s.updateUser(ctx, filter, update)
}

// AddUnionID records the unionid of a user whose WeChat identity lacks one.
func (s *Store) AddUnionID(ctx context.Context, id bson.ObjectID, openid, unionid string, now time.Time) (*User, error) {
	filter := bson.D{{Key: "_id", Value: id}, {Key: "wechat.openid", Value: openid}}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "wechat.unionid", Value: unionid}, {Key: "updatedAt", Value: ms(now)}}}}
	return s.updateUser(ctx, filter, update)
}

// BindPhone binds a phone number to a user that has none yet. Errors as for
// BindWeChat.
func (s *Store) BindPhone(ctx context.Context, id bson.ObjectID, countryCode, phone string, now time.Time) (*User, error) {
	filter := bson.D{{Key: "_id", Value: id}, {Key: "phone", Value: bson.D{{Key: "$exists", Value: false}}}}
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "countryCode", Value: countryCode}, {Key: "phone", Value: phone}, {Key: "updatedAt", Value: ms(now)},
	}}}
	return s.updateUser(ctx, filter, update)
}

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

// UpdateProfile applies changes to an enabled user. ErrUserNotFound means
// the user is gone or disabled.
func (s *Store) UpdateProfile(ctx context.Context, id bson.ObjectID, c ProfileChanges, now time.Time) (*User, error) {
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
	filter := append(bson.D{{Key: "_id", Value: id}}, notDisabled...)
	var u User
	if err := s.users.FindOneAndUpdate(ctx, filter, update, afterUpdate()).Decode(&u); err != nil {
		return nil, translate(err, ErrUserNotFound)
	}
	return &u, nil
}

// SetNameAndAvatarIfEmpty fills the nickname and avatar of a user where they
// are still empty; empty arguments are left alone.
func (s *Store) SetNameAndAvatarIfEmpty(ctx context.Context, u *User, nickname, avatarURL string, now time.Time) (*User, error) {
	var set bson.D
	if nickname != "" && u.Nickname == "" {
		set = append(set, bson.E{Key: "nickname", Value: nickname})
	}
	if avatarURL != "" && u.AvatarURL == "" {
		set = append(set, bson.E{Key: "avatarUrl", Value: avatarURL})
	}
	if set == nil {
		return u, nil
	}
	set = append(set, bson.E{Key: "updatedAt", Value: ms(now)})
	return s.updateUser(ctx, bson.D{{Key: "_id", Value: u.ID}}, bson.D{{Key: "$set", Value: set}})
}

// DeleteUser removes the user and returns what it was.
func (s *Store) DeleteUser(ctx context.Context, id bson.ObjectID) (*User, error) {
	var u User
	if err := s.users.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&u); err != nil {
		return nil, translate(err, ErrUserNotFound)
	}
	return &u, nil
}

func (s *Store) updateUser(ctx context.Context, filter, update bson.D) (*User, error) {
	var u User
	if err := s.users.FindOneAndUpdate(ctx, filter, update, afterUpdate()).Decode(&u); err != nil {
		return nil, translate(err, ErrConflict)
	}
	return &u, nil
}
