// Command migrate sets up the database indexes, once per deployment (not
// at every cold start):
//
//	MONGODB_URI=mongodb://… [MONGODB_DATABASE=auth] go run ./scripts/migrate
//
// Without MONGODB_URI it sets up the local development database (.data/db,
// the one go run ./scripts/dev uses).
//
// It is idempotent: it creates what is missing, reports what exists, and on
// a server without TTL indexes (such as the embedded one) says so and
// carries on. An index of the same name with other options is reported and
// left alone. It exits non-zero only when it could not do its work.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/scripts/internal/localscf"
)

func main() {
	getenv := os.Getenv
	if os.Getenv("MONGODB_URI") == "" {
		uri, stop, err := localscf.DevDatabase(".data")
		if err != nil {
			fmt.Fprintln(os.Stderr, "migrate: MONGODB_URI is unset and the local development database did not start:", err)
			os.Exit(1)
		}
		defer stop()
		fmt.Println("MONGODB_URI is unset: using the local development database in .data/db")
		getenv = func(k string) string {
			if k == "MONGODB_URI" {
				return uri
			}
			return os.Getenv(k)
		}
	}
	if err := run(context.Background(), getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, out io.Writer) error {
	uri, database := getenv("MONGODB_URI"), getenv("MONGODB_DATABASE")
	if uri == "" {
		return errors.New("set MONGODB_URI (and MONGODB_DATABASE, default auth)")
	}
	if database == "" {
		database = "auth"
	}
	s, err := store.Connect(uri, database, "scf-auth/migrate")
	if err != nil {
		return errors.New("MONGODB_URI is not a valid connection string")
	}
	defer s.Close(context.Background())
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := s.Ping(ctx); err != nil {
		return fmt.Errorf("cannot reach the database (TencentDB for MongoDB answers only inside its VPC): %w", err)
	}
	results, err := s.EnsureIndexes(ctx)
	fmt.Fprintf(out, "indexes of database %q:\n", database)
	counts := map[string]int{}
	for _, r := range results {
		fmt.Fprintln(out, "  "+r.String())
		counts[r.Outcome]++
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d created, %d already there, %d unsupported by this server, %d differing\n",
		counts[store.IndexCreated], counts[store.IndexExists], counts[store.IndexUnsupported], counts[store.IndexDiffers])
	if counts[store.IndexDiffers] > 0 {
		fmt.Fprintln(out, "differing indexes were left alone: drop them and run again to replace them")
	}
	return nil
}
