package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// SMSCode is the live login code of one phone number. Each version (Nonce,
// Attempts) is immutable: a verification takes the version it read, by a
// counted delete, and a wrong guess puts the next version back. So each
// guess is judged against a version nobody else can judge at the same time.
type SMSCode struct {
	Phone string `bson:"_id"`
	// Nonce identifies this code among the phone's codes.
	Nonce string `bson:"nonce"`
	// Hash is a keyed hash of the code; the code itself is never stored.
	Hash      []byte    `bson:"hash"`
	Attempts  int       `bson:"attempts"`
	SentAt    time.Time `bson:"sentAt"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// SaveCode stores c as the phone's code, replacing any previous one.
func (s *Store) SaveCode(ctx context.Context, c *SMSCode) error {
	c.SentAt, c.ExpiresAt = ms(c.SentAt), ms(c.ExpiresAt)
	filter := bson.D{{Key: "_id", Value: c.Phone}}
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		// Two first-time upserts can race to insert; the second then replaces.
		_, err = s.codes.ReplaceOne(ctx, filter, c, options.Replace().SetUpsert(true))
		if err = translate(err, nil); err != ErrDuplicate {
			return err
		}
	}
	return err
}

// CodeFor returns the phone's code if it has not expired at now.
func (s *Store) CodeFor(ctx context.Context, phone string, now time.Time) (*SMSCode, error) {
	var c SMSCode
	if err := s.codes.FindOne(ctx, bson.D{{Key: "_id", Value: phone}}).Decode(&c); err != nil {
		return nil, translate(err, ErrCodeNotFound)
	}
	if !now.Before(c.ExpiresAt) {
		return nil, ErrCodeNotFound
	}
	return &c, nil
}

// TakeCode removes exactly the version c of the phone's code. It reports
// false when another request took that version first.
func (s *Store) TakeCode(ctx context.Context, c *SMSCode) (bool, error) {
	res, err := s.codes.DeleteOne(ctx, bson.D{
		{Key: "_id", Value: c.Phone}, {Key: "nonce", Value: c.Nonce}, {Key: "attempts", Value: c.Attempts},
	})
	if err != nil {
		return false, translate(err, nil)
	}
	return res.DeletedCount == 1, nil
}

// PutBackCode stores the next version of a taken code. It answers
// ErrDuplicate when a newer code was sent meanwhile; that one stays.
func (s *Store) PutBackCode(ctx context.Context, c *SMSCode) error {
	_, err := s.codes.InsertOne(ctx, c)
	return translate(err, nil)
}

// DeleteCode removes the phone's code, whatever its version.
func (s *Store) DeleteCode(ctx context.Context, phone string) error {
	_, err := s.codes.DeleteOne(ctx, bson.D{{Key: "_id", Value: phone}})
	return translate(err, nil)
}
