package store

import (
	"context"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// SMSSend records one SMS sent (or being sent) to a phone. Its id holds the
// phone and the cooldown window it falls in, so two sends to one phone in
// one window cannot both be recorded. The records in the last day drive the
// cooldown and the per-phone and per-client caps.
type SMSSend struct {
	ID    string `bson:"_id"`
	Phone string `bson:"phone"`
	// Client is the sender's IP, or its WeChat openid for wx.cloud calls.
	Client    string    `bson:"client,omitempty"`
	At        time.Time `bson:"at"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// SendWindowID is the id of a send to phone at, for a cooldown window.
func SendWindowID(phone string, at time.Time, window time.Duration) string {
	return phone + "@" + strconv.FormatInt(at.UnixMilli()/window.Milliseconds(), 10)
}

// ClaimSend records s; ErrDuplicate means this phone already has a send in
// the same window.
func (s *Store) ClaimSend(ctx context.Context, send *SMSSend) error {
	send.At, send.ExpiresAt = ms(send.At), ms(send.ExpiresAt)
	_, err := s.sends.InsertOne(ctx, send)
	return translate(err, nil)
}

// SendByID returns a recorded send.
func (s *Store) SendByID(ctx context.Context, id string) (*SMSSend, error) {
	var send SMSSend
	if err := s.sends.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&send); err != nil {
		return nil, translate(err, ErrSendNotFound)
	}
	return &send, nil
}

// recentSendsBatch holds every send record one check can need (the caps
// bound them) in the first reply, so the check stays one round trip even
// with generous caps.
const recentSendsBatch = 2000

// RecentSends returns the sends to phone after phoneSince and, when client
// is not empty, those by client after clientSince, in one round trip.
func (s *Store) RecentSends(ctx context.Context, phone string, phoneSince time.Time, client string, clientSince time.Time) ([]SMSSend, error) {
	or := bson.A{bson.D{{Key: "phone", Value: phone}, {Key: "at", Value: bson.D{{Key: "$gt", Value: ms(phoneSince)}}}}}
	if client != "" {
		or = append(or, bson.D{{Key: "client", Value: client}, {Key: "at", Value: bson.D{{Key: "$gt", Value: ms(clientSince)}}}})
	}
	opts := options.Find().SetBatchSize(recentSendsBatch).
		SetProjection(bson.D{{Key: "phone", Value: 1}, {Key: "client", Value: 1}, {Key: "at", Value: 1}})
	cur, err := s.sends.Find(ctx, bson.D{{Key: "$or", Value: or}}, opts)
	if err != nil {
		return nil, translate(err, nil)
	}
	var sends []SMSSend
	if err := cur.All(ctx, &sends); err != nil {
		return nil, translate(err, nil)
	}
	return sends, nil
}

// ReleaseSend forgets a send that was refused or that the provider failed,
// so that it counts against nothing.
func (s *Store) ReleaseSend(ctx context.Context, id string) error {
	_, err := s.sends.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return translate(err, nil)
}

// DeleteSends forgets every send to phone.
func (s *Store) DeleteSends(ctx context.Context, phone string) error {
	_, err := s.sends.DeleteMany(ctx, bson.D{{Key: "phone", Value: phone}})
	return translate(err, nil)
}
