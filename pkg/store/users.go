package store

import (
	"context"
	"errors"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// User is an account: its profile, the login identities it holds (phone,
// WeChat) and its sessions. The identities it lists are its own; identity
// claims (identities.go) keep each one held by one account at most, and
// the account records beside each identity the lease of its claim. Rev
// counts the changes of its identities, so that a change made on what a
// request read of them applies only if they are still so. A deleted
// account leaves a tombstone holding only its id and DeletedAt, so that no
// id is ever used twice.
type User struct {
	ID          bson.ObjectID `bson:"_id"`
	CountryCode string        `bson:"countryCode,omitempty"`
	Phone       string        `bson:"phone,omitempty"`
	PhoneLease  string        `bson:"phoneLease,omitempty"`
	WeChat      *WeChat       `bson:"wechat,omitempty"`
	Rev         int64         `bson:"rev"`
	Nickname    string        `bson:"nickname"`
	// NicknameGenerated says the nickname was made up at sign-up, not
	// chosen: a nickname a WeChat login brings may replace it.
	NicknameGenerated bool   `bson:"nicknameGenerated,omitempty"`
	AvatarURL         string `bson:"avatarUrl"`
	Gender            int    `bson:"gender"`
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

// WeChat is the WeChat identity bound to a user: the person's openid in
// each WeChat app of the deployment, and their unionid when WeChat gave
// one. A unionid alone does not make a WeChat identity. session_key is
// never kept.
type WeChat struct {
	OpenIDs      map[string]AppOpenID `bson:"openids,omitempty"`
	UnionID      string               `bson:"unionid,omitempty"`
	UnionIDLease string               `bson:"unionidLease,omitempty"`
}

// AppOpenID is the person's openid in one app, with its claim's lease.
type AppOpenID struct {
	OpenID string `bson:"openid"`
	Lease  string `bson:"lease"`
}

// WeChatUser is a person as one WeChat app sees them: that app's openid,
// and the unionid when WeChat gave one.
type WeChatUser struct {
	AppID, OpenID, UnionID string
}

// Identities are the identities of a WeChat user: the app's openid, and
// the unionid when known.
func (w WeChatUser) Identities() []Identity {
	ids := []Identity{OpenIDIdentity(w.AppID, w.OpenID)}
	if w.UnionID != "" {
		ids = append(ids, UnionIDIdentity(w.UnionID))
	}
	return ids
}

// IsDisabled reports whether an operator disabled the account.
func (u *User) IsDisabled() bool { return bool(u.Disabled) }

// IsDeleted reports whether this is the tombstone of a deleted account.
func (u *User) IsDeleted() bool { return u.DeletedAt != nil }

// HasPhone reports whether a phone number is bound.
func (u *User) HasPhone() bool { return u.Phone != "" }

// HasWeChat reports whether a WeChat identity is bound.
func (u *User) HasWeChat() bool { return u.WeChat != nil && len(u.WeChat.OpenIDs) > 0 }

// WeChatApps lists the app ids of the WeChat apps the account can log in
// from, sorted.
func (u *User) WeChatApps() []string {
	if !u.HasWeChat() {
		return nil
	}
	apps := make([]string, 0, len(u.WeChat.OpenIDs))
	for app := range u.WeChat.OpenIDs {
		apps = append(apps, app)
	}
	sort.Strings(apps)
	return apps
}

// Identities lists the identities the account holds, sorted.
func (u *User) Identities() []Identity {
	if u.IsDeleted() {
		return nil
	}
	var ids []Identity
	if u.HasPhone() {
		ids = append(ids, PhoneIdentity(u.CountryCode, u.Phone))
	}
	if u.HasWeChat() {
		for app, o := range u.WeChat.OpenIDs {
			ids = append(ids, OpenIDIdentity(app, o.OpenID))
		}
		if u.WeChat.UnionID != "" {
			ids = append(ids, UnionIDIdentity(u.WeChat.UnionID))
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// Holds reports whether the account lists identity id as its own.
func (u *User) Holds(id Identity) bool {
	_, ok := u.LeaseOf(id)
	return ok
}

// LeaseOf is the lease the account recorded for identity id, and whether
// it lists id at all.
func (u *User) LeaseOf(id Identity) (string, bool) {
	if u.IsDeleted() {
		return "", false
	}
	kind, first, second := id.parts()
	switch {
	case kind == "phone" && u.HasPhone() && u.CountryCode == first && u.Phone == second:
		return u.PhoneLease, true
	case kind == "openid" && u.HasWeChat():
		if o, ok := u.WeChat.OpenIDs[first]; ok && o.OpenID == second {
			return o.Lease, true
		}
	case kind == "unionid" && u.HasWeChat() && u.WeChat.UnionID == first:
		return u.WeChat.UnionIDLease, true
	}
	return "", false
}

// OpenIDIn is the account's openid in app, or "".
func (u *User) OpenIDIn(app string) string {
	if !u.HasWeChat() {
		return ""
	}
	return u.WeChat.OpenIDs[app].OpenID
}

// UnionID is the account's unionid, or "".
func (u *User) UnionID() string {
	if !u.HasWeChat() {
		return ""
	}
	return u.WeChat.UnionID
}

// List makes the account being built list id under lease.
func (u *User) List(id Identity, lease string) {
	kind, first, second := id.parts()
	switch kind {
	case "phone":
		u.CountryCode, u.Phone, u.PhoneLease = first, second, lease
	case "openid":
		if u.WeChat == nil {
			u.WeChat = &WeChat{}
		}
		if u.WeChat.OpenIDs == nil {
			u.WeChat.OpenIDs = map[string]AppOpenID{}
		}
		u.WeChat.OpenIDs[first] = AppOpenID{OpenID: second, Lease: lease}
	case "unionid":
		if u.WeChat == nil {
			u.WeChat = &WeChat{}
		}
		u.WeChat.UnionID, u.WeChat.UnionIDLease = first, lease
	}
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
		unset = append(unset, bson.E{Key: "nicknameGenerated", Value: ""})
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
		unset = append(unset, bson.E{Key: "birthday", Value: ""})
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

// FillNameAndAvatar sets the nickname of an account where it is still
// empty (or, with overGenerated, made up at sign-up), and the avatar where
// it is still empty, while it holds requires (what the login proved);
// empty arguments are left alone.
func (s *Store) FillNameAndAvatar(ctx context.Context, u *User, nickname, avatarURL string, overGenerated bool, now time.Time, requires ...Identity) (*User, error) {
	filter := append(bson.D{{Key: "_id", Value: u.ID}, live}, holding(requires)...)
	var set, unset bson.D
	switch {
	case nickname != "" && u.Nickname == "":
		set = append(set, bson.E{Key: "nickname", Value: nickname})
		filter = append(filter, bson.E{Key: "nickname", Value: ""})
	case nickname != "" && overGenerated && u.NicknameGenerated:
		set = append(set, bson.E{Key: "nickname", Value: nickname})
		unset = bson.D{{Key: "nicknameGenerated", Value: ""}}
		filter = append(filter, bson.E{Key: "nickname", Value: u.Nickname}, bson.E{Key: "nicknameGenerated", Value: true})
	}
	if avatarURL != "" && u.AvatarURL == "" {
		set = append(set, bson.E{Key: "avatarUrl", Value: avatarURL})
		filter = append(filter, bson.E{Key: "avatarUrl", Value: ""})
	}
	if set == nil {
		return u, nil
	}
	set = append(set, bson.E{Key: "updatedAt", Value: ms(now)})
	update := bson.D{{Key: "$set", Value: set}}
	if unset != nil {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	updated, err := s.updateUser(ctx, filter, update)
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

// SealUser makes id a tombstone if no account was stored under it: the
// creation of an account that was cut short can then never be completed,
// and its claims can be released. ErrDuplicate means an account (or a
// tombstone) is there already.
func (s *Store) SealUser(ctx context.Context, id bson.ObjectID, now time.Time) error {
	_, err := s.users.InsertOne(ctx, tombstone(id, now))
	return translate(err, nil)
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
