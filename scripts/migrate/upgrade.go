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
//   - identity claims (identities) for every account's phone, openid and
//     unionid, which now keep one account per identity instead of unique
//     indexes; two accounts holding one identity stop the upgrade, naming
//     both, for an operator to decide;
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
	now   time.Time
	out   io.Writer
}

// ErrDuplicateIdentity stops the upgrade: two accounts hold one identity.
var ErrDuplicateIdentity = errors.New("two accounts hold one identity")

// legacyUser is what the identities step reads of an account.
type legacyUser struct {
	ID          bson.ObjectID `bson:"_id"`
	CountryCode string        `bson:"countryCode"`
	Phone       string        `bson:"phone"`
	WeChat      *store.WeChat `bson:"wechat"`
	DeletedAt   *time.Time    `bson:"deletedAt"`
}

func (l legacyUser) user() *store.User {
	return &store.User{ID: l.ID, CountryCode: l.CountryCode, Phone: l.Phone, WeChat: l.WeChat, DeletedAt: l.DeletedAt}
}

// identities claims every identity of every account.
func (u *upgrade) identities(ctx context.Context) error {
	cur, err := u.db.Collection("users").Find(ctx, bson.D{}, options.Find().SetBatchSize(500))
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	var accounts, claimed, there, released int
	for cur.Next(ctx) {
		var l legacyUser
		if err := cur.Decode(&l); err != nil {
			return err
		}
		accounts++
		for _, id := range l.user().Identities() {
			err := u.store.Claim(ctx, id, l.ID, u.now)
			if err == nil {
				claimed++
				continue
			}
			if !errors.Is(err, store.ErrDuplicate) {
				return err
			}
			c, err := u.store.ClaimOf(ctx, id)
			if err != nil {
				return err
			}
			if c.UserID == l.ID {
				there++
				continue
			}
			other, err := u.store.UserByID(ctx, c.UserID)
			if err == nil && other.Holds(id) {
				return fmt.Errorf("%w: accounts %s and %s both hold %s; keep one (remove it from the other account) and run again",
					ErrDuplicateIdentity, c.UserID.Hex(), l.ID.Hex(), id)
			}
			// A claim of an earlier run whose account has since let go of
			// the identity: it is now this account's.
			if _, err := u.store.Release(ctx, id, c.UserID); err != nil {
				return err
			}
			if err := u.store.Claim(ctx, id, l.ID, u.now); err != nil {
				return fmt.Errorf("claim %s for %s: %w", id, l.ID.Hex(), err)
			}
			released++
			claimed++
		}
	}
	if err := cur.Err(); err != nil {
		return err
	}
	fmt.Fprintf(u.out, "identities: %d accounts read, %d claims created, %d already there, %d moved from an account that no longer held them\n",
		accounts, claimed, there, released)
	return nil
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
