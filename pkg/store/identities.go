package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Identity names a way to log in that belongs to one account at most: a
// phone number, a WeChat openid or a WeChat unionid. It is the _id of the
// identity's claim document.
type Identity string

// PhoneIdentity is the identity of a phone number.
func PhoneIdentity(countryCode, number string) Identity {
	return Identity("phone:" + countryCode + ":" + number)
}

// OpenIDIdentity is the identity of a WeChat openid (of this mini-program).
func OpenIDIdentity(openid string) Identity { return Identity("openid:" + openid) }

// UnionIDIdentity is the identity of a WeChat unionid (of the developer).
func UnionIDIdentity(unionid string) Identity { return Identity("unionid:" + unionid) }

// Kind is "phone", "openid" or "unionid".
func (id Identity) Kind() string {
	kind, _, _ := strings.Cut(string(id), ":")
	return kind
}

// Claim says which account holds an identity. It is created by insert, so
// of two requests claiming one identity exactly one succeeds, on any
// MongoDB (sharded on _id included) and on the embedded database alike,
// with no unique secondary index. A claim is written before the account
// lists the identity and removed after the account stopped listing it, so
// a crash in between leaves a claim that says more than the account: the
// next request that meets it completes or releases it (package account).
type Claim struct {
	ID     Identity      `bson:"_id"`
	UserID bson.ObjectID `bson:"userId"`
	At     time.Time     `bson:"at"`
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
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return claims, nil
}

// Claim makes userID the holder of id. ErrDuplicate means someone holds it.
func (s *Store) Claim(ctx context.Context, id Identity, userID bson.ObjectID, now time.Time) error {
	_, err := s.identities.InsertOne(ctx, Claim{ID: id, UserID: userID, At: ms(now)})
	return translate(err, nil)
}

// Release frees id if userID still holds it, and reports whether it did.
func (s *Store) Release(ctx context.Context, id Identity, userID bson.ObjectID) (bool, error) {
	res, err := s.identities.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "userId", Value: userID}})
	if err != nil {
		return false, translate(err, nil)
	}
	return res.DeletedCount == 1, nil
}
