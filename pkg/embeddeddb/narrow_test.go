package embeddeddb_test

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// spoil puts in c's table a row that FerretDB cannot decode: a write that
// reads the whole collection fails on it, one that looks its document up
// by _id never meets it.
func spoil(t *testing.T, c *mongo.Collection) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, c.Database().Name()+".sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var table string
	if err := db.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = ?`, c.Name()).Scan(&table); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf(`INSERT INTO %q (_ferretdb_sjson) VALUES ('{"_id":"spoiled","$s":1}')`, table)); err != nil {
		t.Fatal(err)
	}
}

// A write naming its document by _id with conditions besides reads that
// document only, as on MongoDB, and does what it would do unnarrowed.
func TestConditionalWritesByIDReadOnlyTheirDocument(t *testing.T) {
	c := collection(t)
	ctx := t.Context()
	oid := bson.NewObjectID()
	if _, err := c.InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: "a"}, {Key: "rev", Value: 1}, {Key: "code", Value: "x"}},
		bson.D{{Key: "_id", Value: oid}, {Key: "rev", Value: 1}},
	}); err != nil {
		t.Fatal(err)
	}
	// Without an _id the write reads every document, and meets the spoiled one.
	spoil(t, c)
	if _, err := c.UpdateOne(ctx, bson.D{{Key: "rev", Value: 99}}, bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}}); err == nil {
		t.Fatal("a write without an _id did not read the spoiled document: the test proves nothing")
	}
	before := server.NarrowedWrites()

	// Conditions met: each kind of write applies.
	res, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "rev", Value: 1}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "rev", Value: 1}}}})
	if err != nil || res.MatchedCount != 1 || res.ModifiedCount != 1 {
		t.Fatalf("update: %+v %v", res, err)
	}
	var got bson.M
	err = c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "code", Value: bson.D{{Key: "$exists", Value: true}}}},
		bson.D{{Key: "$rename", Value: bson.D{{Key: "code", Value: "spent"}}}}).Decode(&got)
	if err != nil || got["code"] != "x" || got["rev"] != int32(2) {
		t.Fatalf("findAndModify: %v %v", got, err)
	}
	// Conditions not met: nothing changes, as MongoDB answers.
	res, err = c.UpdateOne(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "rev", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "lost", Value: true}}}})
	if err != nil || res.MatchedCount != 0 {
		t.Fatalf("update of a stale rev: %+v %v", res, err)
	}
	err = c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "code", Value: bson.D{{Key: "$exists", Value: true}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "lost", Value: true}}}}).Err()
	if !errors.Is(err, mongo.ErrNoDocuments) {
		t.Fatalf("findAndModify of a taken code: %v", err)
	}
	del, err := c.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}, {Key: "rev", Value: 2}})
	if err != nil || del.DeletedCount != 0 {
		t.Fatalf("delete of a stale rev: %+v %v", del, err)
	}
	del, err = c.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}, {Key: "rev", Value: 1}})
	if err != nil || del.DeletedCount != 1 {
		t.Fatalf("delete: %+v %v", del, err)
	}
	// A document that is not there.
	res, err = c.UpdateOne(ctx, bson.D{{Key: "_id", Value: "none"}, {Key: "rev", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}})
	if err != nil || res.MatchedCount != 0 {
		t.Fatalf("update of a missing document: %+v %v", res, err)
	}
	if n := server.NarrowedWrites() - before; n != 7 {
		t.Fatalf("%d writes narrowed, want 7", n)
	}
	var a bson.M
	if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: "a"}}).Decode(&a); err != nil || a["rev"] != int32(2) || a["spent"] != "x" || a["lost"] != nil {
		t.Fatalf("document a: %v %v", a, err)
	}
}

// Writes whose filter shapes what they do pass unchanged: upserts (the
// filter's fields go into the document inserted), and writes of several
// statements (the second sees what the first did).
func TestWritesThatCannotBeNarrowedPassUnchanged(t *testing.T) {
	c := collection(t)
	ctx := t.Context()
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}}); err != nil {
		t.Fatal(err)
	}
	before := server.NarrowedWrites()
	if _, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: "b"}, {Key: "kind", Value: "k"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 1}}}}, options.UpdateOne().SetUpsert(true)); err != nil {
		t.Fatal(err)
	}
	// upsert given as a number, as other clients send it
	if err := c.Database().RunCommand(ctx, bson.D{{Key: "update", Value: c.Name()}, {Key: "updates", Value: bson.A{
		bson.D{{Key: "q", Value: bson.D{{Key: "_id", Value: "c"}, {Key: "kind", Value: "k"}}}, {Key: "u", Value: bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 1}}}}}, {Key: "upsert", Value: int32(1)}},
	}}}).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.BulkWrite(ctx, []mongo.WriteModel{
		mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: "a"}, {Key: "n", Value: bson.D{{Key: "$exists", Value: false}}}}).SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 1}}}}),
		mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: "a"}, {Key: "n", Value: 1}}).SetUpdate(bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}),
	}); err != nil {
		t.Fatal(err)
	}
	if n := server.NarrowedWrites() - before; n != 0 {
		t.Fatalf("%d writes narrowed, want none", n)
	}
	var a, b bson.M
	for _, id := range []string{"b", "c"} {
		if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&b); err != nil || b["kind"] != "k" || b["n"] != int32(1) {
			t.Fatalf("upserted %s: %v %v", id, b, err)
		}
	}
	if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: "a"}}).Decode(&a); err != nil || a["n"] != int32(2) {
		t.Fatalf("document a: %v %v", a, err)
	}
}

// A narrowed write whose conditions fail changes no document, whatever
// _ids the collection holds.
func TestAFailedConditionChangesNoOtherDocument(t *testing.T) {
	c := collection(t)
	ctx := t.Context()
	others := []any{
		bson.D{{Key: "_id", Value: "embeddeddb: no document has this _id"}, {Key: "rev", Value: 1}},
		bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "rev", Value: 1}},
		bson.D{{Key: "_id", Value: ""}, {Key: "rev", Value: 1}},
		bson.D{{Key: "_id", Value: bson.ObjectID{}}, {Key: "rev", Value: 1}},
	}
	if _, err := c.InsertMany(ctx, append(others, bson.D{{Key: "_id", Value: "a"}, {Key: "rev", Value: 2}})); err != nil {
		t.Fatal(err)
	}
	before := server.NarrowedWrites()
	stale := bson.D{{Key: "_id", Value: "a"}, {Key: "rev", Value: 1}}
	set := bson.D{{Key: "$set", Value: bson.D{{Key: "lost", Value: true}}}}
	if res, err := c.UpdateOne(ctx, stale, set); err != nil || res.MatchedCount != 0 || res.ModifiedCount != 0 {
		t.Fatalf("update of a stale rev: %+v %v", res, err)
	}
	if err := c.FindOneAndUpdate(ctx, stale, set).Err(); !errors.Is(err, mongo.ErrNoDocuments) {
		t.Fatalf("findAndModify of a stale rev: %v", err)
	}
	if err := c.FindOneAndDelete(ctx, stale).Err(); !errors.Is(err, mongo.ErrNoDocuments) {
		t.Fatalf("findAndModify remove of a stale rev: %v", err)
	}
	if del, err := c.DeleteOne(ctx, stale); err != nil || del.DeletedCount != 0 {
		t.Fatalf("delete of a stale rev: %+v %v", del, err)
	}
	if n := server.NarrowedWrites() - before; n != 4 {
		t.Fatalf("%d writes narrowed, want 4", n)
	}
	n, err := c.CountDocuments(ctx, bson.D{{Key: "rev", Value: 1}, {Key: "lost", Value: bson.D{{Key: "$exists", Value: false}}}})
	if err != nil || n != int64(len(others)) {
		t.Fatalf("%d of %d other documents as they were: %v", n, len(others), err)
	}
}
