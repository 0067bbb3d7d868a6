package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wxauth/scf-auth/pkg/smscode"
	"github.com/wxauth/scf-auth/pkg/store"
)

// upgrade brings a database written by an earlier version to the shapes
// of this one. Every step is idempotent and can be run again after an
// interruption: it does what is missing and counts what was there.
//
//   - identity claims (identities) for every account's phone, openids and
//     unionid, each under a lease the account records, openids under the
//     app they belong to (WECHAT_APPID for those stored before several
//     apps), which keep one account per identity instead of unique indexes;
//     two accounts holding one identity stop the upgrade, naming both, for
//     an operator to decide;
//   - the sessions of the sessions collection copied into their accounts,
//     with a lookup (legacy_sessions) for the refresh tokens issued before,
//     which name their session but not its account;
//   - with JWT_SECRET, the account of each mainland phone noted beside its
//     SMS state, so that send-sms refuses a disabled account's phone;
//   - the collections and indexes earlier versions used and this one does
//     not are reported, and left in place.
type upgrade struct {
	store *store.Store
	db    *mongo.Database
	keys  *smscode.Keys
	// appID is WECHAT_APPID: the app of the openids stored before several
	// apps.
	appID string
	now   time.Time
	out   io.Writer
}

// ErrDuplicateIdentity stops the upgrade: two accounts hold one identity.
var ErrDuplicateIdentity = errors.New("two accounts hold one identity")

// legacyUser is what the identities step reads of an account, in the
// shape of any earlier version.
type legacyUser struct {
	ID          bson.ObjectID `bson:"_id"`
	CountryCode string        `bson:"countryCode"`
	Phone       string        `bson:"phone"`
	PhoneLease  string        `bson:"phoneLease"`
	WeChat      *legacyWeChat `bson:"wechat"`
	Rev         *int64        `bson:"rev"`
	DeletedAt   *time.Time    `bson:"deletedAt"`
}

// legacyWeChat is a WeChat identity as any version stored it: one openid
// (before several apps), or openids by app.
type legacyWeChat struct {
	OpenID       string                     `bson:"openid"`
	OpenIDs      map[string]store.AppOpenID `bson:"openids"`
	UnionID      string                     `bson:"unionid"`
	UnionIDLease string                     `bson:"unionidLease"`
}

// user is the account in this version's shape, its openid of before
// several apps given to app (the first mini-program); leases as stored.
func (l legacyUser) user(app string) (*store.User, error) {
	u := &store.User{ID: l.ID, CountryCode: l.CountryCode, Phone: l.Phone, PhoneLease: l.PhoneLease, DeletedAt: l.DeletedAt}
	if w := l.WeChat; w != nil && (w.OpenID != "" || len(w.OpenIDs) > 0) {
		u.WeChat = &store.WeChat{OpenIDs: map[string]store.AppOpenID{}, UnionID: w.UnionID, UnionIDLease: w.UnionIDLease}
		for a, o := range w.OpenIDs {
			u.WeChat.OpenIDs[a] = o
		}
		if w.OpenID != "" {
			if app == "" {
				return nil, errors.New("accounts store a WeChat openid of before several apps: set WECHAT_APPID, the mini-program it belongs to")
			}
			if _, ok := u.WeChat.OpenIDs[app]; !ok {
				u.WeChat.OpenIDs[app] = store.AppOpenID{OpenID: w.OpenID}
			}
		}
	}
	return u, nil
}

// legacyOpenID is the claim id of an openid before several apps.
func legacyOpenID(openid string) store.Identity { return store.Identity("openid:" + openid) }

// identities brings every account and the claims of its identities to
// this version's shape: each identity claimed for its account under a
// lease the account records, openids under their app.
func (u *upgrade) identities(ctx context.Context) error {
	cur, err := u.db.Collection("users").Find(ctx, bson.D{}, options.Find().SetBatchSize(500))
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	var accounts, claimed, leased, moved, there, reshaped, legacy int
	for cur.Next(ctx) {
		var l legacyUser
		if err := cur.Decode(&l); err != nil {
			return err
		}
		if l.DeletedAt != nil {
			continue
		}
		accounts++
		want, err := l.user(u.appID)
		if err != nil {
			return err
		}
		changed := l.Rev == nil || (l.WeChat != nil && l.WeChat.OpenID != "")
		for _, id := range want.Identities() {
			recorded, _ := want.LeaseOf(id)
			lease, outcome, err := u.claim(ctx, id, l.ID, recorded)
			if err != nil {
				return err
			}
			switch outcome {
			case claimCreated:
				claimed++
			case claimLeased:
				leased++
			case claimMoved:
				moved++
			default:
				there++
			}
			if lease != recorded {
				want.List(id, lease)
				changed = true
			}
		}
		if changed {
			var rev int64
			if l.Rev != nil {
				rev = *l.Rev
			}
			set := bson.D{{Key: "rev", Value: rev}}
			if want.HasPhone() {
				set = append(set, bson.E{Key: "phoneLease", Value: want.PhoneLease})
			}
			if want.WeChat != nil {
				set = append(set, bson.E{Key: "wechat", Value: want.WeChat})
			}
			if _, err := u.db.Collection("users").UpdateOne(ctx, bson.D{{Key: "_id", Value: l.ID}}, bson.D{{Key: "$set", Value: set}}); err != nil {
				return err
			}
			reshaped++
		}
		if w := l.WeChat; w != nil && w.OpenID != "" {
			res, err := u.db.Collection("identities").DeleteOne(ctx, bson.D{{Key: "_id", Value: legacyOpenID(w.OpenID)}, {Key: "userId", Value: l.ID}})
			if err != nil {
				return err
			}
			legacy += int(res.DeletedCount)
		}
	}
	if err := cur.Err(); err != nil {
		return err
	}
	fmt.Fprintf(u.out, "identities: %d accounts read, %d reshaped; claims: %d created, %d given a lease, %d moved from an account that no longer held them, %d already right; %d claims of openids before several apps replaced\n",
		accounts, reshaped, claimed, leased, moved, there, legacy)
	return nil
}

// What claim did to an identity's claim.
const (
	claimThere = iota
	claimCreated
	claimLeased
	claimMoved
)

// claim makes sure the claim of id names account userID under a lease,
// recorded (when not empty, and the claim has none yet or has it), and
// returns the lease the account must record.
func (u *upgrade) claim(ctx context.Context, id store.Identity, userID bson.ObjectID, recorded string) (string, int, error) {
	lease := recorded
	if lease == "" {
		lease = store.NewLease()
	}
	c, err := u.store.ClaimOf(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotClaimed):
		if err := u.store.Claim(ctx, id, userID, lease, u.now); err != nil {
			return "", 0, fmt.Errorf("claim %s for %s: %w", id, userID.Hex(), err)
		}
		return lease, claimCreated, nil
	case err != nil:
		return "", 0, err
	case c.UserID == userID && c.Lease != "":
		return c.Lease, claimThere, nil
	case c.UserID == userID:
		if _, err := u.store.Restamp(ctx, id, userID, "", lease, u.now); err != nil {
			return "", 0, err
		}
		return lease, claimLeased, nil
	}
	var other legacyUser
	err = u.db.Collection("users").FindOne(ctx, bson.D{{Key: "_id", Value: c.UserID}}).Decode(&other)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return "", 0, err
	}
	if o, _ := other.user(u.appID); err == nil && other.DeletedAt == nil && o.Holds(id) {
		return "", 0, fmt.Errorf("%w: accounts %s and %s both hold %s; keep one (remove it from the other account) and run again",
			ErrDuplicateIdentity, c.UserID.Hex(), userID.Hex(), id)
	}
	// A claim whose account has since let go of the identity: it is now
	// this account's.
	if _, err := u.store.Release(ctx, id, c.Lease); err != nil {
		return "", 0, err
	}
	if err := u.store.Claim(ctx, id, userID, lease, u.now); err != nil {
		return "", 0, fmt.Errorf("claim %s for %s: %w", id, userID.Hex(), err)
	}
	return lease, claimMoved, nil
}

// legacySession is a session document of the earlier sessions collection.
type legacySession struct {
	ID        string        `bson:"_id"`
	UserID    bson.ObjectID `bson:"userId"`
	Method    string        `bson:"method"`
	Gen       int           `bson:"gen"`
	TokenHash []byte        `bson:"tokenHash"`
	PrevHash  []byte        `bson:"prevHash"`
	CreatedAt time.Time     `bson:"createdAt"`
	RotatedAt time.Time     `bson:"rotatedAt"`
	ExpiresAt time.Time     `bson:"expiresAt"`
}

// sessions copies the live sessions of the sessions collection into their
// accounts, and records where each went.
func (u *upgrade) sessions(ctx context.Context) error {
	if !u.has(ctx, "sessions") {
		fmt.Fprintln(u.out, "sessions: no sessions collection of an earlier version")
		return nil
	}
	cur, err := u.db.Collection("sessions").Find(ctx, bson.D{}, options.Find().SetBatchSize(500))
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	users := u.db.Collection("users")
	var copied, there, expired, orphaned int
	for cur.Next(ctx) {
		var s legacySession
		if err := cur.Decode(&s); err != nil {
			return err
		}
		if !u.now.Before(s.ExpiresAt) {
			expired++
			continue
		}
		record := store.Session{Gen: s.Gen, TokenHash: s.TokenHash, PrevHash: s.PrevHash, Method: s.Method,
			CreatedAt: s.CreatedAt, RotatedAt: s.RotatedAt, ExpiresAt: s.ExpiresAt}
		field := "sessions." + s.ID
		res, err := users.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: s.UserID}, {Key: "deletedAt", Value: bson.D{{Key: "$exists", Value: false}}}, {Key: field, Value: bson.D{{Key: "$exists", Value: false}}}},
			bson.D{{Key: "$set", Value: bson.D{{Key: field, Value: record}}}})
		if err != nil {
			return err
		}
		switch {
		case res.ModifiedCount == 1:
			copied++
		default:
			n, err := users.CountDocuments(ctx, bson.D{{Key: "_id", Value: s.UserID}, {Key: field, Value: bson.D{{Key: "$exists", Value: true}}}})
			if err != nil {
				return err
			}
			if n == 0 {
				orphaned++ // its account is gone
				continue
			}
			there++
		}
		if err := u.store.SaveLegacySession(ctx, s.ID, s.UserID, s.ExpiresAt); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return err
	}
	fmt.Fprintf(u.out, "sessions: %d copied into their accounts, %d already there, %d expired and left, %d of deleted accounts left\n",
		copied, there, expired, orphaned)
	return nil
}

// phoneOwners notes the account of each mainland phone beside its SMS
// state; it needs JWT_SECRET, which keys the SMS state.
func (u *upgrade) phoneOwners(ctx context.Context) error {
	if u.keys == nil {
		fmt.Fprintln(u.out, "phone accounts: skipped (set JWT_SECRET, the functions' value, to note them); until a phone's next login, send-sms does not know its account is disabled")
		return nil
	}
	cur, err := u.db.Collection("users").Find(ctx, bson.D{{Key: "countryCode", Value: "86"}}, options.Find().SetBatchSize(500))
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	noted := 0
	for cur.Next(ctx) {
		var l legacyUser
		if err := cur.Decode(&l); err != nil {
			return err
		}
		if l.Phone == "" || l.DeletedAt != nil {
			continue
		}
		if err := u.store.RecordPhoneOwner(ctx, u.keys.Phone(l.Phone), l.ID, u.now); err != nil {
			return err
		}
		noted++
	}
	if err := cur.Err(); err != nil {
		return err
	}
	fmt.Fprintf(u.out, "phone accounts: %d noted for send-sms\n", noted)
	return nil
}

// Collections of earlier versions that no function reads any more.
var earlierCollections = []string{"sessions", "session_rotations", "sms_codes", "sms_sends"}

// leftovers reports what earlier versions used and this one does not.
func (u *upgrade) leftovers(ctx context.Context) error {
	specs, err := u.db.Collection("users").Indexes().ListSpecifications(ctx)
	if err != nil && !isNamespaceNotFound(err) {
		return err
	}
	for _, s := range specs {
		if s.Name == "_id_" {
			continue
		}
		fmt.Fprintf(u.out, "left in place: index users.%s: no function uses it; drop it once the new functions run (db.users.dropIndex(%q))\n", s.Name, s.Name)
	}
	names, err := u.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return err
	}
	for _, c := range earlierCollections {
		if slices.Contains(names, c) {
			fmt.Fprintf(u.out, "left in place: collection %s: no function reads it; drop it once the new functions run and this upgrade ran once more (db.%s.drop())\n", c, c)
		}
	}
	return nil
}

func (u *upgrade) has(ctx context.Context, collection string) bool {
	names, err := u.db.ListCollectionNames(ctx, bson.D{{Key: "name", Value: collection}})
	return err == nil && len(names) > 0
}

func isNamespaceNotFound(err error) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && ce.Code == 26
}
