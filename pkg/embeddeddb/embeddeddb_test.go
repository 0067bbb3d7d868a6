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
	var ce mongo.CommandError
	if !errors.As(err, &ce) {
		t.Fatalf("injected fault answered %v, want a command error", err)
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
