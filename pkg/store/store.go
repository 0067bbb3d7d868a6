package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wxauth/scf-auth/pkg/roundtrip"
)

// Collection names.
const (
	collUsers          = "users"
	collIdentities     = "identities"
	collSMS            = "sms"
	collLegacySessions = "legacy_sessions"
	collWeChatTokens   = "wechat_tokens"
)

// Store is the auth functions' database. It is safe for concurrent use and
// meant to live for the whole instance.
type Store struct {
	client         *mongo.Client
	users          *mongo.Collection
	identities     *mongo.Collection
	sms            *mongo.Collection
	legacySessions *mongo.Collection
	wechatTokens   *mongo.Collection
}

// Connect creates the client for uri without dialling: the first request
// connects, and every later one on this instance reuses the pool. Settings
// in uri win over the defaults here, which suit one small function
// instance, except reads from the primary and majority writes, which are
// always asked for (consistency.go): a *WeakURIError names an option of uri
// that asks for less.
func Connect(uri, database, appName string) (*Store, error) {
	opts := options.Client().
		SetAppName(appName).
		SetMaxPoolSize(8).
		SetServerSelectionTimeout(3 * time.Second).
		SetConnectTimeout(3 * time.Second).
		SetMaxConnIdleTime(5 * time.Minute).
		ApplyURI(uri).
		SetMonitor(&event.CommandMonitor{
			Started: func(ctx context.Context, e *event.CommandStartedEvent) {
				roundtrip.Add(ctx, e.CommandName, e.Command)
			},
		})
	if err := enforceConsistency(opts); err != nil {
		return nil, err
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, err
	}
	return New(client, database), nil
}

// New returns a store over database of an existing client.
func New(client *mongo.Client, database string) *Store {
	db := client.Database(database)
	return &Store{
		client:         client,
		users:          db.Collection(collUsers),
		identities:     db.Collection(collIdentities),
		sms:            db.Collection(collSMS),
		legacySessions: db.Collection(collLegacySessions),
		wechatTokens:   db.Collection(collWeChatTokens),
	}
}

// Close disconnects the client.
func (s *Store) Close(ctx context.Context) error { return s.client.Disconnect(ctx) }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return translate(s.client.Ping(ctx, nil), nil)
}

// Database is the database the store works in, for tools such as the
// upgrade, which also reads the collections of earlier versions.
func (s *Store) Database() *mongo.Database { return s.users.Database() }

// ms truncates t to what BSON keeps, so that stored and computed times
// compare equal.
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// DropDatabase removes the whole database; tests use it to clean up.
func (s *Store) DropDatabase(ctx context.Context) error {
	return translate(s.users.Database().Drop(ctx), nil)
}

// byID is the filter naming one document, the only kind of filter the hot
// paths send: it is a primary-key lookup on every server.
func byID(id any) bson.D { return bson.D{{Key: "_id", Value: id}} }

// exists and absent are conditions on a field, added to byID filters.
var (
	exists = bson.D{{Key: "$exists", Value: true}}
	absent = bson.D{{Key: "$exists", Value: false}}
)

// upsert runs an upsert of a document named by _id, and once more if it
// met a duplicate key: of two upserts racing to insert one new _id,
// MongoDB before 4.2 and sharded clusters may answer one with a
// duplicate-key error instead of applying it as an update; run again, it
// finds the document and updates it. It returns the store's error.
func upsert(write func() error) error {
	err := write()
	if err != nil && isDuplicate(err) {
		err = write()
	}
	return translate(err, nil)
}
