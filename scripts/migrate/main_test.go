package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wxauth/scf-auth/pkg/mongotest"
	"github.com/wxauth/scf-auth/pkg/store"
)

func TestMain(m *testing.M) { mongotest.Main(m) }

const (
	secret = "migrate-test-secret-0123456789abcdef"
	appID  = "wxmigrate000000000"
)

// earlier is a database as the previous version left it: accounts with
// identities in their documents and a unique index on the phone, and a
// sessions collection.
func earlier(t *testing.T) (db *mongo.Database, env func(string) string, a, b bson.ObjectID) {
	t.Helper()
	uri, name := mongotest.Database(t)
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	db = client.Database(name)
	ctx := t.Context()
	a, b = bson.NewObjectID(), bson.NewObjectID()
	now := time.Now().UTC().Truncate(time.Millisecond)
	users := []any{
		bson.D{{Key: "_id", Value: a}, {Key: "countryCode", Value: "86"}, {Key: "phone", Value: "13800138000"},
			{Key: "wechat", Value: bson.D{{Key: "openid", Value: "o-a"}, {Key: "unionid", Value: "u-a"}}}, {Key: "nickname", Value: "甲"}},
		bson.D{{Key: "_id", Value: b}, {Key: "wechat", Value: bson.D{{Key: "openid", Value: "o-b"}}}, {Key: "nickname", Value: "乙"}},
	}
	if _, err := db.Collection("users").InsertMany(ctx, users); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("users").Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "countryCode", Value: 1}, {Key: "phone", Value: 1}}, Options: options.Index().SetName("phone_unique").SetUnique(true).SetSparse(true),
	}); err != nil {
		t.Fatal(err)
	}
	sessions := []any{
		bson.D{{Key: "_id", Value: "AAAAAAAAAAAAAAAAAAAAAA"}, {Key: "userId", Value: a}, {Key: "method", Value: "sms"}, {Key: "gen", Value: 2},
			{Key: "tokenHash", Value: []byte{1, 2, 3}}, {Key: "createdAt", Value: now}, {Key: "rotatedAt", Value: now}, {Key: "expiresAt", Value: now.Add(time.Hour)}},
		bson.D{{Key: "_id", Value: "BBBBBBBBBBBBBBBBBBBBBB"}, {Key: "userId", Value: b}, {Key: "method", Value: "wechat"}, {Key: "gen", Value: 0},
			{Key: "tokenHash", Value: []byte{4}}, {Key: "createdAt", Value: now}, {Key: "rotatedAt", Value: now}, {Key: "expiresAt", Value: now.Add(-time.Minute)}},
	}
	if _, err := db.Collection("sessions").InsertMany(ctx, sessions); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"MONGODB_URI": uri, "MONGODB_DATABASE": name, "JWT_SECRET": secret, "WECHAT_APPID": appID}
	return db, func(k string) string { return vars[k] }, a, b
}

// checkIdentities checks that each identity is claimed for its account
// under the lease the account records.
func checkIdentities(t *testing.T, s *store.Store, holders map[store.Identity]bson.ObjectID) {
	t.Helper()
	for id, holder := range holders {
		c, err := s.ClaimOf(t.Context(), id)
		if err != nil || c.UserID != holder || c.Lease == "" {
			t.Errorf("claim of %s: %+v %v", id, c, err)
			continue
		}
		u, err := s.UserByID(t.Context(), holder)
		if err != nil {
			t.Fatal(err)
		}
		if lease, ok := u.LeaseOf(id); !ok || lease != c.Lease {
			t.Errorf("account %s lists %s under lease %q (%v), its claim has %q", holder.Hex(), id, lease, ok, c.Lease)
		}
	}
}

func TestUpgradeAnEarlierDatabaseTwice(t *testing.T) {
	db, env, a, b := earlier(t)
	var first, second bytes.Buffer
	if err := run(t.Context(), env, &first); err != nil {
		t.Fatalf("%v\n%s", err, first.String())
	}
	t.Logf("first run:\n%s", first.String())
	for _, want := range []string{
		"2 accounts read, 2 reshaped; claims: 4 created", "1 copied into their accounts", "1 expired", "1 noted for send-sms",
		"index users.phone_unique", "collection sessions",
	} {
		if !strings.Contains(first.String(), want) {
			t.Errorf("first run does not report %q", want)
		}
	}
	s := store.New(db.Client(), db.Name())
	checkIdentities(t, s, map[store.Identity]bson.ObjectID{
		store.PhoneIdentity("86", "13800138000"): a, store.OpenIDIdentity(appID, "o-a"): a,
		store.UnionIDIdentity("u-a"): a, store.OpenIDIdentity(appID, "o-b"): b,
	})
	u, err := s.UserByID(t.Context(), a)
	if err != nil || u.Sessions["AAAAAAAAAAAAAAAAAAAAAA"].Gen != 2 {
		t.Fatalf("session not copied into its account: %+v %v", u, err)
	}
	owner, err := s.LegacySessionOwner(t.Context(), "AAAAAAAAAAAAAAAAAAAAAA", time.Now())
	if err != nil || owner != a {
		t.Fatalf("no lookup for the earlier refresh tokens: %v %v", owner, err)
	}

	if err := run(t.Context(), env, &second); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"0 reshaped; claims: 0 created, 0 given a lease, 0 moved from an account that no longer held them, 4 already right",
		"0 copied into their accounts, 1 already there", "\n0 created"} {
		if !strings.Contains(second.String(), want) {
			t.Errorf("second run does not report %q:\n%s", want, second.String())
		}
	}
}

// TestUpgradeTheClaimsOfTheVersionBefore upgrades what the previous
// version stored: claims without leases, openids without their app.
func TestUpgradeTheClaimsOfTheVersionBefore(t *testing.T) {
	db, env, a, b := earlier(t)
	now := time.Now()
	for id, holder := range map[store.Identity]bson.ObjectID{
		store.PhoneIdentity("86", "13800138000"): a, "openid:o-a": a, store.UnionIDIdentity("u-a"): a, "openid:o-b": b,
	} {
		if _, err := db.Collection("identities").InsertOne(t.Context(), bson.D{{Key: "_id", Value: id}, {Key: "userId", Value: holder}, {Key: "at", Value: now}}); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := run(t.Context(), env, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "2 reshaped; claims: 2 created, 2 given a lease, 0 moved from an account that no longer held them, 0 already right; 2 claims of openids before several apps replaced") {
		t.Fatalf("run:\n%s", out.String())
	}
	s := store.New(db.Client(), db.Name())
	checkIdentities(t, s, map[store.Identity]bson.ObjectID{
		store.PhoneIdentity("86", "13800138000"): a, store.OpenIDIdentity(appID, "o-a"): a,
		store.UnionIDIdentity("u-a"): a, store.OpenIDIdentity(appID, "o-b"): b,
	})
	for _, old := range []store.Identity{"openid:o-a", "openid:o-b"} {
		if _, err := s.ClaimOf(t.Context(), old); !errors.Is(err, store.ErrNotClaimed) {
			t.Errorf("claim %s of before several apps left: %v", old, err)
		}
	}
	if n, _ := db.Collection("users").CountDocuments(t.Context(), bson.D{{Key: "wechat.openid", Value: bson.D{{Key: "$exists", Value: true}}}}); n != 0 {
		t.Errorf("%d accounts keep an openid of before several apps", n)
	}
}

func TestUpgradeResumesAfterAnInterruption(t *testing.T) {
	db, env, a, _ := earlier(t)
	// An interrupted run got as far as one claim.
	s := store.New(db.Client(), db.Name())
	if err := s.Claim(t.Context(), store.OpenIDIdentity(appID, "o-a"), a, "lease-of-before", time.Now()); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(t.Context(), env, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "claims: 3 created, 0 given a lease, 0 moved from an account that no longer held them, 1 already right") {
		t.Fatalf("resumed run:\n%s", out.String())
	}
	if u, _ := s.UserByID(t.Context(), a); u.WeChat.OpenIDs[appID].Lease != "lease-of-before" {
		t.Fatalf("the account does not record the lease of its claim: %+v", u.WeChat)
	}
}

func TestUpgradeStopsAtTwoAccountsWithOneIdentity(t *testing.T) {
	db, env, a, b := earlier(t)
	// Without the unique index, a second account took the same openid.
	if _, err := db.Collection("users").UpdateOne(t.Context(), bson.D{{Key: "_id", Value: b}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "wechat.openid", Value: "o-a"}}}}); err != nil {
		t.Fatal(err)
	}
	err := run(t.Context(), env, new(bytes.Buffer))
	if !errors.Is(err, ErrDuplicateIdentity) || !strings.Contains(err.Error(), a.Hex()) || !strings.Contains(err.Error(), b.Hex()) {
		t.Fatalf("got %v, want it to stop and name both accounts", err)
	}
}

func TestUpgradeNeedsTheAppOfEarlierOpenIDs(t *testing.T) {
	_, env, _, _ := earlier(t)
	without := func(k string) string {
		if k == "WECHAT_APPID" {
			return ""
		}
		return env(k)
	}
	if err := run(t.Context(), without, new(bytes.Buffer)); err == nil || !strings.Contains(err.Error(), "WECHAT_APPID") {
		t.Fatalf("got %v, want it to ask for WECHAT_APPID", err)
	}
}

func TestRunNeedsADatabase(t *testing.T) {
	if err := run(context.Background(), func(string) string { return "" }, new(bytes.Buffer)); err == nil {
		t.Fatal("ran without MONGODB_URI")
	}
	unreachable := func(k string) string {
		return map[string]string{"MONGODB_URI": "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300"}[k]
	}
	if err := run(context.Background(), unreachable, new(bytes.Buffer)); err == nil || !strings.Contains(err.Error(), "VPC") {
		t.Fatalf("unreachable database: %v", err)
	}
}
