package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// The changes of the identities an account lists. Each is one conditional
// update of the account, so it either happens whole or not at all, and of
// two racing changes that exclude each other (unlinking the phone and
// unlinking WeChat, when they are the last two) exactly one succeeds.
// ErrConflict means the account was not as the change requires. The
// caller holds the claims (identities.go) of what it adds. Each records
// its event (link, unlink, phone-change) in the same update, after its
// audit entry (see the package doc).

// SetPhone binds a phone number to an account, which must have no phone
// (from empty) or still have the phone from (a change of number).
func (s *Store) SetPhone(ctx context.Context, id bson.ObjectID, countryCode, number, from string, now time.Time) (*User, error) {
	filter := bson.D{{Key: "_id", Value: id}, live}
	if from == "" {
		filter = append(filter, bson.E{Key: "phone", Value: absent})
	} else {
		filter = append(filter, bson.E{Key: "phone", Value: from})
	}
	set := bson.D{{Key: "countryCode", Value: countryCode}, {Key: "phone", Value: number}, {Key: "updatedAt", Value: ms(now)}}
	ev := newEvent(ctx, EventLink, MethodPhone, now)
	if from != "" {
		ev = newEvent(ctx, EventPhoneChange, MethodPhone, now)
	}
	if err := s.audit(ctx, id, ev, auditNote{phone: number, previous: from}); err != nil {
		return nil, err
	}
	return s.updateUser(ctx, filter, bson.D{{Key: "$set", Value: set}, pushEvent(ev)})
}

// RemovePhone unbinds the phone number of an account that also has a
// WeChat identity, so that it can still log in.
func (s *Store) RemovePhone(ctx context.Context, id bson.ObjectID, number string, now time.Time) (*User, error) {
	filter := bson.D{{Key: "_id", Value: id}, live, {Key: "phone", Value: number}, {Key: "wechat.openid", Value: exists}}
	ev := newEvent(ctx, EventUnlink, MethodPhone, now)
	if err := s.audit(ctx, id, ev, auditNote{phone: number}); err != nil {
		return nil, err
	}
	update := bson.D{
		{Key: "$unset", Value: bson.D{{Key: "phone", Value: ""}, {Key: "countryCode", Value: ""}}},
		{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: ms(now)}}},
		pushEvent(ev),
	}
	return s.updateUser(ctx, filter, update)
}

// SetWeChat binds a WeChat identity to an account that has none.
func (s *Store) SetWeChat(ctx context.Context, id bson.ObjectID, wx WeChat, now time.Time) (*User, error) {
	filter := bson.D{{Key: "_id", Value: id}, live, {Key: "wechat", Value: absent}}
	ev := newEvent(ctx, EventLink, MethodWeChat, now)
	if err := s.audit(ctx, id, ev, auditNote{}); err != nil {
		return nil, err
	}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "wechat", Value: wx}, {Key: "updatedAt", Value: ms(now)}}}, pushEvent(ev)}
	return s.updateUser(ctx, filter, update)
}

// AddUnionID records the unionid of an account whose WeChat identity
// (openid) lacks one.
func (s *Store) AddUnionID(ctx context.Context, id bson.ObjectID, openid, unionid string, now time.Time) (*User, error) {
	filter := bson.D{{Key: "_id", Value: id}, live, {Key: "wechat.openid", Value: openid}, {Key: "wechat.unionid", Value: absent}}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "wechat.unionid", Value: unionid}, {Key: "updatedAt", Value: ms(now)}}}}
	return s.updateUser(ctx, filter, update)
}

// RemoveWeChat unbinds the WeChat identity (openid) of an account that
// also has a phone number, so that it can still log in.
func (s *Store) RemoveWeChat(ctx context.Context, id bson.ObjectID, openid string, now time.Time) (*User, error) {
	filter := bson.D{{Key: "_id", Value: id}, live, {Key: "wechat.openid", Value: openid}, {Key: "phone", Value: exists}}
	ev := newEvent(ctx, EventUnlink, MethodWeChat, now)
	if err := s.audit(ctx, id, ev, auditNote{}); err != nil {
		return nil, err
	}
	update := bson.D{
		{Key: "$unset", Value: bson.D{{Key: "wechat", Value: ""}}},
		{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: ms(now)}}},
		pushEvent(ev),
	}
	return s.updateUser(ctx, filter, update)
}
