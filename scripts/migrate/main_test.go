package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/wxauth/scf-auth/pkg/mongotest"
)

func TestMain(m *testing.M) { mongotest.Main(m) }

func TestRunTwiceChangesNothingTheSecondTime(t *testing.T) {
	uri, db := mongotest.Database(t)
	env := func(k string) string { return map[string]string{"MONGODB_URI": uri, "MONGODB_DATABASE": db}[k] }
	var first, second bytes.Buffer
	if err := run(context.Background(), env, &first); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(first.String(), "phone_unique") || !strings.Contains(first.String(), " created") {
		t.Fatalf("first run:\n%s", first.String())
	}
	if err := run(context.Background(), env, &second); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(second.String(), " created ") || !strings.Contains(second.String(), "\n0 created") {
		t.Fatalf("second run created indexes:\n%s", second.String())
	}
	t.Logf("first run:\n%s", first.String())
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
