package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// WeChatToken is the WeChat access token of an app, shared by every
// instance of every function.
type WeChatToken struct {
	AppID     string    `bson:"_id"`
	Token     string    `bson:"token"`
	FetchedAt time.Time `bson:"fetchedAt"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// tokenLease is held by the one instance fetching a new token.
type tokenLease struct {
	ID        string    `bson:"_id"`
	Owner     string    `bson:"owner"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

func leaseID(appID string) string { return appID + "#lease" }

// WeChatTokenFor returns the cached token of the app, expired or not.
func (s *Store) WeChatTokenFor(ctx context.Context, appID string) (*WeChatToken, error) {
	var t WeChatToken
	if err := s.wechatTokens.FindOne(ctx, bson.D{{Key: "_id", Value: appID}}).Decode(&t); err != nil {
		return nil, translate(err, ErrTokenNotFound)
	}
	return &t, nil
}

// SaveWeChatToken caches t for every instance.
func (s *Store) SaveWeChatToken(ctx context.Context, t *WeChatToken) error {
	t.FetchedAt, t.ExpiresAt = ms(t.FetchedAt), ms(t.ExpiresAt)
	return upsert(func() error {
		_, err := s.wechatTokens.ReplaceOne(ctx, byID(t.AppID), t, options.Replace().SetUpsert(true))
		return err
	})
}

// AcquireTokenLease makes owner the one instance fetching the app's token
// until expiresAt. It answers ErrDuplicate while another owner holds a
// lease; a lease past its expiry is broken and taken over.
func (s *Store) AcquireTokenLease(ctx context.Context, appID, owner string, now, expiresAt time.Time) error {
	lease := tokenLease{ID: leaseID(appID), Owner: owner, ExpiresAt: ms(expiresAt)}
	_, err := s.wechatTokens.InsertOne(ctx, lease)
	if err = translate(err, nil); err != ErrDuplicate {
		return err
	}
	var held tokenLease
	if err := s.wechatTokens.FindOne(ctx, bson.D{{Key: "_id", Value: lease.ID}}).Decode(&held); err != nil {
		if err = translate(err, nil); err == nil {
			return ErrDuplicate
		}
		return err
	}
	if now.Before(held.ExpiresAt) {
		return ErrDuplicate
	}
	// The holder died: delete exactly its lease, then compete once more.
	if _, err := s.wechatTokens.DeleteOne(ctx, bson.D{{Key: "_id", Value: lease.ID}, {Key: "owner", Value: held.Owner}}); err != nil {
		return translate(err, nil)
	}
	_, err = s.wechatTokens.InsertOne(ctx, lease)
	return translate(err, nil)
}

// ReleaseTokenLease gives up owner's lease, if it still holds it.
func (s *Store) ReleaseTokenLease(ctx context.Context, appID, owner string) error {
	_, err := s.wechatTokens.DeleteOne(ctx, bson.D{{Key: "_id", Value: leaseID(appID)}, {Key: "owner", Value: owner}})
	return translate(err, nil)
}
