package functest_test

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/roundtrip"
)

func command(t *testing.T, name string, body bson.D) roundtrip.Command {
	t.Helper()
	raw, err := bson.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return roundtrip.Command{Name: name, Body: raw}
}

func TestCheckKeyedByID(t *testing.T) {
	id := bson.D{{Key: "_id", Value: "x"}}
	many := bson.A{}
	for i := 0; i < 11; i++ {
		many = append(many, i)
	}
	tests := []struct {
		name string
		cmd  string
		body bson.D
		ok   bool
	}{
		{"find by _id", "find", bson.D{{Key: "find", Value: "users"}, {Key: "filter", Value: id}}, true},
		{"find by _id and more", "find", bson.D{{Key: "find", Value: "users"}, {Key: "filter", Value: bson.D{{Key: "_id", Value: 1}, {Key: "gen", Value: 2}}}}, true},
		{"find by a short $in", "find", bson.D{{Key: "find", Value: "users"}, {Key: "filter", Value: bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{1, 2}}}}}}}, true},
		{"find by phone", "find", bson.D{{Key: "find", Value: "users"}, {Key: "filter", Value: bson.D{{Key: "phone", Value: "1"}}}}, false},
		{"find by a range of _id", "find", bson.D{{Key: "find", Value: "users"}, {Key: "filter", Value: bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: 1}}}}}}, false},
		{"find by a long $in", "find", bson.D{{Key: "find", Value: "users"}, {Key: "filter", Value: bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: many}}}}}}, false},
		{"find everything", "find", bson.D{{Key: "find", Value: "users"}, {Key: "filter", Value: bson.D{}}}, false},
		{"$or", "find", bson.D{{Key: "find", Value: "users"}, {Key: "filter", Value: bson.D{{Key: "$or", Value: bson.A{id}}}}}, false},
		{"update by _id", "update", bson.D{{Key: "update", Value: "users"}, {Key: "updates", Value: bson.A{bson.D{{Key: "q", Value: id}}}}}, true},
		{"one statement not by _id", "update", bson.D{{Key: "update", Value: "users"}, {Key: "updates", Value: bson.A{bson.D{{Key: "q", Value: id}}, bson.D{{Key: "q", Value: bson.D{{Key: "a", Value: 1}}}}}}}, false},
		{"delete by userId", "delete", bson.D{{Key: "delete", Value: "s"}, {Key: "deletes", Value: bson.A{bson.D{{Key: "q", Value: bson.D{{Key: "userId", Value: 1}}}}}}}, false},
		{"findAndModify by _id", "findAndModify", bson.D{{Key: "findAndModify", Value: "sms"}, {Key: "query", Value: id}}, true},
		{"count", "count", bson.D{{Key: "count", Value: "users"}, {Key: "query", Value: id}}, false},
		{"insert", "insert", bson.D{{Key: "insert", Value: "users"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := functest.CheckKeyedByID(command(t, tt.cmd, tt.body))
			if (err == nil) != tt.ok {
				t.Fatalf("CheckKeyedByID = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
