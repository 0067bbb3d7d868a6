package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Identity names a way to log in that belongs to one account at most: a
// phone number, the openid of a person in one WeChat app, or a WeChat
// unionid. It is the _id of the identity's claim document.
type Identity string

// PhoneIdentity is the identity of a phone number.
func PhoneIdentity(countryCode, number string) Identity {
	return Identity("phone:" + countryCode + ":" + number)
}

// OpenIDIdentity is the identity of a person in one WeChat app: WeChat
// gives each app its own openid for one person.
func OpenIDIdentity(appID, openid string) Identity {
	return Identity("openid:" + appID + ":" + openid)
}

// UnionIDIdentity is the identity of a person across the WeChat apps
// bound to one open-platform account.
func UnionIDIdentity(unionid string) Identity { return Identity("unionid:" + unionid) }

// Kind is "phone", "openid" or "unionid".
func (id Identity) Kind() string {
	kind, _, _ := strings.Cut(string(id), ":")
	return kind
}

// parts splits an identity into its kind's two values: country code and
// number, app id and openid; for a unionid the second is empty.
func (id Identity) parts() (kind, first, second string) {
	kind, rest, _ := strings.Cut(string(id), ":")
	first, second, _ = strings.Cut(rest, ":")
	return kind, first, second
}

// Claim says which account holds an identity. It is created by insert, so
// of two requests claiming one identity exactly one succeeds, on any
// MongoDB (sharded on _id included) and on the embedded database alike,
// with no unique secondary index. Lease is the random value of the request
// that made the claim or last re-stamped it to go on with it; the account
// records the same lease beside the identity when it lists it, and a claim
// is only ever released by naming a lease (package account says why).
type Claim struct {
	ID     Identity      `bson:"_id"`
	UserID bson.ObjectID `bson:"userId"`
	Lease  string        `bson:"lease"`
	At     time.Time     `bson:"at"`
}

// NewLease returns a fresh random lease.
func NewLease() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ClaimOf returns the claim of an identity; ErrNotClaimed when it is free.
func (s *Store) ClaimOf(ctx context.Context, id Identity) (*Claim, error) {
	var c Claim
	if err := s.identities.FindOne(ctx, byID(id)).Decode(&c); err != nil {
		return nil, translate(err, ErrNotClaimed)
	}
	return &c, nil
}

// ClaimsOf reads the claims of several identities at once (one round trip
// each, sent together); free identities are absent from the map.
func (s *Store) ClaimsOf(ctx context.Context, ids ...Identity) (map[Identity]*Claim, error) {
	claims := make(map[Identity]*Claim, len(ids))
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := s.ClaimOf(ctx, id)
			switch {
			case err == nil:
				mu.Lock()
				claims[id] = c
				mu.Unlock()
			case !errors.Is(err, ErrNotClaimed):
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	return claims, errors.Join(errs...)
}

// Claim makes userID the holder of id under lease. ErrDuplicate means
// someone holds it.
func (s *Store) Claim(ctx context.Context, id Identity, userID bson.ObjectID, lease string, now time.Time) error {
	_, err := s.identities.InsertOne(ctx, Claim{ID: id, UserID: userID, Lease: lease, At: ms(now)})
	return translate(err, nil)
}

// Restamp gives the claim of id, if userID holds it (and, when from is not
// empty, under lease from), the lease to, as of now, and returns the claim
// as it was: nil when the claim is gone or another's.
func (s *Store) Restamp(ctx context.Context, id Identity, userID bson.ObjectID, from, to string, now time.Time) (*Claim, error) {
	if to == "" {
		return nil, errors.New("store: a claim is re-stamped with a lease")
	}
	filter := bson.D{{Key: "_id", Value: id}, {Key: "userId", Value: userID}}
	if from != "" {
		filter = append(filter, leaseIs(from))
	}
	var before Claim
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "lease", Value: to}, {Key: "at", Value: ms(now)}}}}
	if err := s.identities.FindOneAndUpdate(ctx, filter, update).Decode(&before); err != nil {
		return nil, translate(err, nil)
	}
	return &before, nil
}

// Release frees id if its claim still has lease, and reports whether it
// did. A claim stored before claims had leases has none; the lease "" names
// it.
func (s *Store) Release(ctx context.Context, id Identity, lease string) (bool, error) {
	res, err := s.identities.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, leaseIs(lease)})
	if err != nil {
		return false, translate(err, nil)
	}
	return res.DeletedCount == 1, nil
}

func leaseIs(lease string) bson.E {
	if lease == "" {
		return bson.E{Key: "lease", Value: absent}
	}
	return bson.E{Key: "lease", Value: lease}
}
