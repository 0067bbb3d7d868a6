package store

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The sms collection holds what SMS login needs to remember, each kept
// under a key that holds no phone number or IP address in clear (the
// callers pass keyed hashes), and none of it is account data: deleting an
// account leaves it to expire.
//
//   - one document per phone: its recent sends, in the order they were
//     recorded, which decide the cooldown and the per-phone caps; its
//     current login code; and the account that last used a code of it;
//   - one per client (IP, or caller) and one for the whole deployment:
//     sends counted by the minute, for the per-client and global caps;
//   - one per captcha ticket used, so that none is used twice.

// PhoneSMS is the SMS state of one phone number.
type PhoneSMS struct {
	Key   string `bson:"_id"`
	Sends []Send `bson:"sends"`
	Code  *Code  `bson:"code,omitempty"`
	// Judged counts the tries judged against the current code, wherever
	// they were judged; a new code starts again at 0.
	Judged int `bson:"judged"`
	// Spent is the code last taken, at SpentAt.
	Spent   *Code      `bson:"spent,omitempty"`
	SpentAt *time.Time `bson:"spentAt,omitempty"`
	// UserID is the account that last logged in with a code of this phone.
	UserID    *bson.ObjectID `bson:"userId,omitempty"`
	ExpiresAt time.Time      `bson:"expiresAt"`
}

// Send is one send recorded for a phone.
type Send struct {
	ID string    `bson:"id"`
	At time.Time `bson:"at"`
}

// Code is a phone's login code. Only a keyed hash of it is kept.
type Code struct {
	Nonce     string    `bson:"nonce"`
	Hash      []byte    `bson:"hash"`
	SentAt    time.Time `bson:"sentAt"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// SendCounter counts the sends of a client or of the deployment by the
// minute (unix minutes, as decimal strings).
type SendCounter struct {
	Key       string         `bson:"_id"`
	Minutes   map[string]int `bson:"m"`
	ExpiresAt time.Time      `bson:"expiresAt"`
}

func (c Code) stored() Code {
	c.SentAt, c.ExpiresAt = ms(c.SentAt), ms(c.ExpiresAt)
	return c
}

func (s Send) stored() Send {
	s.At = ms(s.At)
	return s
}

func upsertAfter() *options.FindOneAndUpdateOptionsBuilder {
	return options.FindOneAndUpdate().SetReturnDocument(options.After).SetUpsert(true)
}

// RecordPhoneSend appends a send to a phone's sends and returns the
// phone's state with it, in one atomic step: each send sees exactly the
// sends recorded before it.
func (s *Store) RecordPhoneSend(ctx context.Context, key string, send Send, keepUntil time.Time) (*PhoneSMS, error) {
	update := bson.D{
		{Key: "$push", Value: bson.D{{Key: "sends", Value: send.stored()}}},
		{Key: "$max", Value: bson.D{{Key: "expiresAt", Value: ms(keepUntil)}}},
	}
	var p PhoneSMS
	err := upsert(func() error { return s.sms.FindOneAndUpdate(ctx, byID(key), update, upsertAfter()).Decode(&p) })
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// CountSend adds one send to a counter in the minute given and returns the
// counter with it, in one atomic step.
func (s *Store) CountSend(ctx context.Context, key, minute string, keepUntil time.Time) (*SendCounter, error) {
	update := bson.D{
		{Key: "$inc", Value: bson.D{{Key: "m." + minute, Value: 1}}},
		{Key: "$max", Value: bson.D{{Key: "expiresAt", Value: ms(keepUntil)}}},
	}
	var c SendCounter
	err := upsert(func() error { return s.sms.FindOneAndUpdate(ctx, byID(key), update, upsertAfter()).Decode(&c) })
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// Uncount takes back one send of a counter in the minute it was counted.
type Uncount struct{ Key, Minute string }

// ReleaseSend takes back a send that was refused or failed: its record
// among the phone's sends (when phoneKey is set) and its counts, in one
// round trip, so that it counts against nothing.
func (s *Store) ReleaseSend(ctx context.Context, phoneKey string, send Send, counts ...Uncount) error {
	var models []mongo.WriteModel
	if phoneKey != "" {
		models = append(models, mongo.NewUpdateOneModel().SetFilter(byID(phoneKey)).
			SetUpdate(bson.D{{Key: "$pull", Value: bson.D{{Key: "sends", Value: send.stored()}}}}))
	}
	for _, c := range counts {
		models = append(models, mongo.NewUpdateOneModel().SetFilter(byID(c.Key)).
			SetUpdate(bson.D{{Key: "$inc", Value: bson.D{{Key: "m." + c.Minute, Value: -1}}}}))
	}
	if len(models) == 0 {
		return nil
	}
	_, err := s.sms.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	return translate(err, nil)
}

// SaveCode makes code the phone's login code, replacing any previous one
// (and its count of judged tries), and drops the sends listed (those too
// old to count any more).
func (s *Store) SaveCode(ctx context.Context, key string, code Code, drop []Send, keepUntil time.Time) error {
	update := bson.D{
		{Key: "$set", Value: bson.D{{Key: "code", Value: code.stored()}, {Key: "judged", Value: 0}}},
		{Key: "$max", Value: bson.D{{Key: "expiresAt", Value: ms(keepUntil)}}},
	}
	if len(drop) > 0 {
		old := make(bson.A, len(drop))
		for i, d := range drop {
			old[i] = d.stored()
		}
		update = append(update, bson.E{Key: "$pullAll", Value: bson.D{{Key: "sends", Value: old}}})
	}
	return upsert(func() error {
		_, err := s.sms.UpdateOne(ctx, byID(key), update, options.UpdateOne().SetUpsert(true))
		return err
	})
}

// OwnerMemory is how long the phone's SMS state remembers the account
// that last logged in with it.
const OwnerMemory = 400 * day

const day = 24 * time.Hour

// TakeCode removes the phone's code and returns it with the count of
// tries judged against it before this one, in one atomic step that counts
// this try: of concurrent takers exactly one gets the code at a time, so
// each try is judged against a code nobody else judges, and no two tries
// see the same count. The code taken stays as the phone's spent code.
// owner, when set, is recorded as the account logging in with this phone.
// ErrCodeNotFound means there was no code, and nothing changed.
func (s *Store) TakeCode(ctx context.Context, key string, owner *bson.ObjectID, now time.Time) (*Code, int, error) {
	set := bson.D{{Key: "spentAt", Value: ms(now)}}
	update := bson.D{
		{Key: "$rename", Value: bson.D{{Key: "code", Value: "spent"}}},
		{Key: "$inc", Value: bson.D{{Key: "judged", Value: 1}}},
	}
	if owner != nil {
		set = append(set, bson.E{Key: "userId", Value: *owner})
		update = append(update, bson.E{Key: "$max", Value: bson.D{{Key: "expiresAt", Value: ms(now.Add(OwnerMemory))}}})
	}
	update = append(update, bson.E{Key: "$set", Value: set})
	var before PhoneSMS
	filter := bson.D{{Key: "_id", Value: key}, {Key: "code", Value: exists}}
	if err := s.sms.FindOneAndUpdate(ctx, filter, update).Decode(&before); err != nil {
		return nil, 0, translate(err, ErrCodeNotFound)
	}
	return before.Code, before.Judged, nil
}

// JudgeSpent counts one try against the phone's spent code and returns the
// code with the count of tries judged before this one: of concurrent
// tries, each sees a different count, shared with the tries of TakeCode.
func (s *Store) JudgeSpent(ctx context.Context, key string) (*Code, int, error) {
	update := bson.D{{Key: "$inc", Value: bson.D{{Key: "judged", Value: 1}}}}
	filter := bson.D{{Key: "_id", Value: key}, {Key: "spent", Value: exists}}
	var before PhoneSMS
	if err := s.sms.FindOneAndUpdate(ctx, filter, update).Decode(&before); err != nil {
		return nil, 0, translate(err, ErrCodeNotFound)
	}
	if len(before.Spent.Hash) == 0 {
		return nil, 0, ErrCodeNotFound
	}
	return before.Spent, before.Judged, nil
}

// RecordPhoneOwner notes the account that logged in with a phone without
// an SMS code (phone-number-login).
func (s *Store) RecordPhoneOwner(ctx context.Context, key string, owner bson.ObjectID, now time.Time) error {
	update := bson.D{
		{Key: "$set", Value: bson.D{{Key: "userId", Value: owner}}},
		{Key: "$max", Value: bson.D{{Key: "expiresAt", Value: ms(now.Add(OwnerMemory))}}},
	}
	return upsert(func() error {
		_, err := s.sms.UpdateOne(ctx, byID(key), update, options.UpdateOne().SetUpsert(true))
		return err
	})
}

// PutBackCode puts a taken code back after a wrong try, unless a new code
// was saved meanwhile (ErrConflict): that one stands.
func (s *Store) PutBackCode(ctx context.Context, key string, code Code) error {
	filter := bson.D{{Key: "_id", Value: key}, {Key: "code", Value: absent}}
	res, err := s.sms.UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: bson.D{{Key: "code", Value: code.stored()}}}})
	if err != nil {
		return translate(err, nil)
	}
	if res.MatchedCount == 0 {
		return ErrConflict
	}
	return nil
}

// PruneCounter drops minutes of a counter that no window counts any more.
func (s *Store) PruneCounter(ctx context.Context, key string, minutes []string) error {
	if len(minutes) == 0 {
		return nil
	}
	unset := make(bson.D, len(minutes))
	for i, m := range minutes {
		unset[i] = bson.E{Key: "m." + m, Value: ""}
	}
	_, err := s.sms.UpdateOne(ctx, byID(key), bson.D{{Key: "$unset", Value: unset}})
	return translate(err, nil)
}

// ClaimTicket records a captcha ticket (by its hash) as used; ErrDuplicate
// means it was used before.
func (s *Store) ClaimTicket(ctx context.Context, key string, keepUntil time.Time) error {
	_, err := s.sms.InsertOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "expiresAt", Value: ms(keepUntil)}})
	return translate(err, nil)
}

// PhoneSMSOf returns the SMS state of a phone, for tests and tools.
func (s *Store) PhoneSMSOf(ctx context.Context, key string) (*PhoneSMS, error) {
	var p PhoneSMS
	err := s.sms.FindOne(ctx, byID(key)).Decode(&p)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return &PhoneSMS{Key: key}, nil
	}
	if err != nil {
		return nil, translate(err, nil)
	}
	return &p, nil
}
