package embeddeddb_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	_ "modernc.org/sqlite"

	"github.com/wxauth/scf-auth/pkg/embeddeddb"
)

var (
	server  *embeddeddb.Server
	dataDir string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "embeddeddb-test-")
	dataDir = dir
	if err != nil {
		panic(err)
	}
	if server, err = embeddeddb.Start(dir, nil); err != nil {
		panic(err)
	}
	code := m.Run()
	server.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

func collection(t *testing.T) *mongo.Collection {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(server.URI).SetMaxPoolSize(32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database(fmt.Sprintf("t%d", time.Now().UnixNano())).Collection("docs")
}

// concurrently runs f n times at once.
func concurrently(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); <-start; f(i) }()
	}
	close(start)
	wg.Wait()
}

func TestConcurrentUpdatesOfOneDocumentLoseNothing(t *testing.T) {
	c := collection(t)
	ctx := t.Context()
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "d"}, {Key: "n", Value: 0}}); err != nil {
		t.Fatal(err)
	}
	const n = 40
	concurrently(n, func(i int) {
		_, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: "d"}}, bson.D{
			{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}},
			{Key: "$set", Value: bson.D{{Key: fmt.Sprintf("m.k%d", i), Value: i}}},
		})
		if err != nil {
			t.Error(err)
		}
	})
	var got struct {
		N int            `bson:"n"`
		M map[string]int `bson:"m"`
	}
	if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: "d"}}).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.N != n || len(got.M) != n {
		t.Fatalf("after %d concurrent updates: n = %d, %d fields set", n, got.N, len(got.M))
	}
}

func TestConcurrentConditionalUpdatesHaveOneWinner(t *testing.T) {
	c := collection(t)
	ctx := t.Context()
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "d"}, {Key: "gen", Value: 0}}); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	concurrently(20, func(int) {
		res, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: "d"}, {Key: "gen", Value: 0}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "gen", Value: 1}}}})
		if err != nil {
			t.Error(err)
		} else if res.ModifiedCount == 1 {
			wins.Add(1)
		}
	})
	if wins.Load() != 1 {
		t.Fatalf("%d conditional updates won, want exactly 1", wins.Load())
	}
}

func TestFindAndModifyTakesOnce(t *testing.T) {
	c := collection(t)
	ctx := t.Context()
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "d"}, {Key: "code", Value: "123456"}}); err != nil {
		t.Fatal(err)
	}
	var takers atomic.Int32
	concurrently(20, func(int) {
		var before struct {
			Code string `bson:"code"`
		}
		err := c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "d"}},
			bson.D{{Key: "$unset", Value: bson.D{{Key: "code", Value: ""}}}}).Decode(&before)
		if err != nil {
			t.Error(err)
		} else if before.Code != "" {
			takers.Add(1)
		}
	})
	if takers.Load() != 1 {
		t.Fatalf("%d requests took the one value, want exactly 1", takers.Load())
	}
}

func TestFailNextWrite(t *testing.T) {
	c := collection(t)
	ctx := t.Context()
	server.FailNextWrite(c.Database().Name(), func(command, coll string) bool { return command == "insert" && coll == "docs" })
	_, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}})
	if !mongo.IsNetworkError(err) {
		t.Fatalf("injected fault answered %v, want a network error", err)
	}
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}}); err != nil {
		t.Fatalf("the fault outlived one write: %v", err)
	}
	if n, _ := c.CountDocuments(ctx, bson.D{}); n != 1 {
		t.Fatalf("%d documents, want the one written after the fault", n)
	}
}

func TestLookupsByIDUseAnIndex(t *testing.T) {
	c := collection(t)
	if _, err := c.InsertOne(t.Context(), bson.D{{Key: "_id", Value: "a"}}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, c.Database().Name()+".sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var table string
	if err := db.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = ?`, c.Name()).Scan(&table); err != nil {
		t.Fatal(err)
	}
	// The query FerretDB runs for a filter {_id: value}.
	var id, parent, unused int
	var plan string
	q := fmt.Sprintf(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->'$._id' = ?`, table)
	if err := db.QueryRow(q, `"a"`).Scan(&id, &parent, &unused, &plan); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "USING INDEX") {
		t.Fatalf("a lookup by _id reads the whole table: %s", plan)
	}
}

func TestLoseNextReplyAppliesTheWrite(t *testing.T) {
	c := collection(t)
	ctx := t.Context()
	server.LoseNextReply(c.Database().Name(), func(command, coll string) bool { return command == "insert" && coll == "docs" })
	_, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}})
	if !mongo.IsNetworkError(err) {
		t.Fatalf("a lost reply answered %v, want a network error", err)
	}
	if n, _ := c.CountDocuments(ctx, bson.D{{Key: "_id", Value: "a"}}); n != 1 {
		t.Fatalf("the write whose reply was lost did not apply")
	}
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "b"}}); err != nil {
		t.Fatalf("the fault outlived one write: %v", err)
	}
}

func TestRandomFaults(t *testing.T) {
	c := collection(t)
	ctx := t.Context()
	db := c.Database().Name()
	// Each lost reply costs the driver about half a second to find the
	// server again, as after a real dropped connection: few of them.
	const writes = 60
	server.SetRandomFaults(db, embeddeddb.RandomFaults{Seed: 7, FailBefore: 0.08, LoseReply: 0.08, Delay: 0.5, MaxDelay: time.Millisecond})
	var failed, lost int
	for i := 0; i < writes; i++ {
		_, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: i}})
		if err != nil && !mongo.IsNetworkError(err) {
			t.Fatalf("a fault answered %v, want a network error", err)
		}
		if n, _ := c.CountDocuments(ctx, bson.D{{Key: "_id", Value: i}}); n == 0 && err != nil {
			failed++
		} else if err != nil {
			lost++
		}
	}
	counts := server.SetRandomFaults(db, embeddeddb.RandomFaults{})
	if counts.Writes != writes || counts.FailedBefore != failed || counts.RepliesLost != lost || counts.Delayed == 0 {
		t.Fatalf("counts %+v; the client saw %d failed, %d lost", counts, failed, lost)
	}
	if failed == 0 || lost == 0 {
		t.Fatalf("%d failed and %d lost of %d writes", failed, lost, writes)
	}
	// What applied is exactly what did not fail before applying.
	if n, _ := c.CountDocuments(ctx, bson.D{}); int(n) != writes-failed {
		t.Fatalf("%d documents, want %d (lost replies applied, failed writes did not)", n, writes-failed)
	}
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "after"}}); err != nil {
		t.Fatalf("faults went on after they were stopped: %v", err)
	}
}

func TestDuplicateKeyIsCode11000(t *testing.T) {
	c := collection(t)
	ctx := t.Context()
	if _, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "k", Value: 1}}, Options: options.Index().SetUnique(true)}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []bson.D{{{Key: "_id", Value: "a"}, {Key: "k", Value: 1}}, {{Key: "_id", Value: "b"}, {Key: "k", Value: 2}}} {
		if _, err := c.InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	has11000 := func(err error) bool {
		var se mongo.ServerError
		return errors.As(err, &se) && se.HasErrorCode(11000)
	}
	_, insertErr := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}})
	_, updateErr := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: "b"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "k", Value: 1}}}})
	famErr := c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "b"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "k", Value: 1}}}}).Err()
	upsertErr := c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "k", Value: 9}}, bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}}, options.FindOneAndUpdate().SetUpsert(true)).Err()
	for name, err := range map[string]error{"insert": insertErr, "update": updateErr, "findAndModify": famErr, "upsert": upsertErr} {
		if !has11000(err) {
			t.Errorf("%s breaking a unique key answered %v, want code 11000", name, err)
		}
	}
}
