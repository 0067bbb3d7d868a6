package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Change is a change of the identities an account lists, applied in one
// conditional update of the account, so that it happens whole or not at
// all. Add lists each identity under its lease, where the account lists
// none of that kind and place (no phone, no openid in that app, no
// unionid), or in place of a phone Remove names; Remove takes identities
// out. A change that removes anything applies only to the account at
// revision Rev, its identities as the caller read them: so it removes
// exactly what the caller saw, and of two changes made on one reading (an
// unlink of the phone and one of WeChat, when they are the last two)
// exactly one applies. The caller holds the claims of what it adds. The
// change records its event (link, unlink, phone-change) in the same
// update, after its audit entry (see the package doc).
type Change struct {
	Add    map[Identity]string
	Remove []Identity
	Rev    int64
	// Requires are identities the account must list for the change to
	// apply (what the login making it proved), but for those it adds.
	Requires []Identity
}

// ChangeIdentities applies c to the account id and returns the account
// after it. ErrConflict means the account was not as the change requires
// (or is gone): the caller reads it again to see why.
func (s *Store) ChangeIdentities(ctx context.Context, id bson.ObjectID, c Change, now time.Time) (*User, error) {
	var requires []Identity
	for _, r := range c.Requires {
		if _, added := c.Add[r]; !added {
			requires = append(requires, r)
		}
	}
	filter := append(bson.D{{Key: "_id", Value: id}, live}, holding(requires)...)
	if len(c.Remove) > 0 {
		filter = append(filter, revIs(c.Rev))
	}
	set := bson.D{{Key: "updatedAt", Value: ms(now)}}
	var unset bson.D
	addsPhone := false
	for add, lease := range c.Add {
		kind, first, second := add.parts()
		switch kind {
		case "phone":
			addsPhone = true
			set = append(set, bson.E{Key: "countryCode", Value: first}, bson.E{Key: "phone", Value: second}, bson.E{Key: "phoneLease", Value: lease})
		case "openid":
			set = append(set, bson.E{Key: "wechat.openids." + first, Value: AppOpenID{OpenID: second, Lease: lease}})
		case "unionid":
			set = append(set, bson.E{Key: "wechat.unionid", Value: first}, bson.E{Key: "wechat.unionidLease", Value: lease})
		}
		if kind != "phone" || !removes(c.Remove, "phone") {
			filter = append(filter, bson.E{Key: placeOf(add), Value: absent})
		}
	}
	for _, rm := range c.Remove {
		kind, first, _ := rm.parts()
		switch {
		case kind == "phone" && !addsPhone:
			unset = append(unset, bson.E{Key: "countryCode", Value: ""}, bson.E{Key: "phone", Value: ""}, bson.E{Key: "phoneLease", Value: ""})
		case kind == "openid":
			unset = append(unset, bson.E{Key: "wechat.openids." + first, Value: ""})
		case kind == "unionid":
			unset = append(unset, bson.E{Key: "wechat.unionid", Value: ""}, bson.E{Key: "wechat.unionidLease", Value: ""})
		}
	}
	ev, note := c.event(ctx, now)
	if err := s.audit(ctx, id, ev, note); err != nil {
		return nil, err
	}
	update := bson.D{{Key: "$set", Value: set}, {Key: "$inc", Value: bson.D{{Key: "rev", Value: 1}}}, pushEvent(ev)}
	if len(unset) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	return s.updateUser(ctx, filter, update)
}

// event is the security event of a change: a link of what it adds, a
// change of number when it puts a phone in place of another, else an
// unlink of what it removes; its method is the way to log in concerned.
func (c Change) event(ctx context.Context, now time.Time) (Event, auditNote) {
	typ, ids := EventUnlink, c.Remove
	if len(c.Add) > 0 {
		typ, ids = EventLink, nil
		for id := range c.Add {
			ids = append(ids, id)
		}
	}
	method, note := MethodWeChat, auditNote{}
	for _, id := range ids {
		if kind, _, number := id.parts(); kind == "phone" {
			method, note.phone = MethodPhone, number
		}
	}
	for _, id := range c.Remove {
		if kind, _, number := id.parts(); kind == "phone" && typ == EventLink && method == MethodPhone {
			typ, note.previous = EventPhoneChange, number
		}
	}
	return newEvent(ctx, typ, method, now), note
}

// placeOf is the field that says whether the account lists an identity of
// that kind and place.
func placeOf(id Identity) string {
	kind, first, _ := id.parts()
	switch kind {
	case "phone":
		return "phone"
	case "openid":
		return "wechat.openids." + first
	}
	return "wechat.unionid"
}

func removes(ids []Identity, kind string) bool {
	for _, id := range ids {
		if id.Kind() == kind {
			return true
		}
	}
	return false
}

// revIs matches an account at revision rev; accounts stored before
// revisions were counted are at 0.
func revIs(rev int64) bson.E {
	if rev == 0 {
		return bson.E{Key: "rev", Value: bson.D{{Key: "$in", Value: bson.A{int64(0), int32(0), nil}}}}
	}
	return bson.E{Key: "rev", Value: rev}
}

// holding matches an account that lists every identity of ids.
func holding(ids []Identity) bson.D {
	var d bson.D
	for _, id := range ids {
		kind, first, second := id.parts()
		switch kind {
		case "phone":
			d = append(d, bson.E{Key: "countryCode", Value: first}, bson.E{Key: "phone", Value: second})
		case "openid":
			d = append(d, bson.E{Key: "wechat.openids." + first + ".openid", Value: second})
		case "unionid":
			d = append(d, bson.E{Key: "wechat.unionid", Value: first})
		}
	}
	return d
}
