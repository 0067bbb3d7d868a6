// Command migrate sets up a deployment's database and upgrades one written
// by an earlier version, once per deployment and after each upgrade (not
// at every cold start):
//
//	MONGODB_URI=mongodb://… [MONGODB_DATABASE=auth] [JWT_SECRET=…] [WECHAT_APPID=wx…] go run ./scripts/migrate
//
// Without MONGODB_URI it works on the local development database (.data/db,
// the one go run ./scripts/dev uses).
//
// It creates the identity claims of existing accounts, copies sessions of
// an earlier version into their accounts, notes each phone's account for
// send-sms (with JWT_SECRET), sets up the TTL indexes (the audit trail's
// among them: each entry carries the expiry AUDIT_RETENTION gave it when
// it was written), and reports what earlier versions left that this one
// does not use. Each step is
// idempotent and resumable: run it again after an interruption, or after
// deploying, and it does what is missing. On a server without TTL indexes
// (such as the embedded one) it says so and carries on. It exits non-zero
// when it could not do its work, or found two accounts holding one
// identity (it names both).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/wxauth/scf-auth/pkg/app"
	"github.com/wxauth/scf-auth/pkg/config"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/scripts/internal/localscf"
)

func main() {
	getenv := os.Getenv
	if os.Getenv("MONGODB_URI") == "" {
		dev, stop, err := localscf.DevEnvironment(".data", os.Getenv)
		if err != nil {
			fmt.Fprintln(os.Stderr, "migrate: MONGODB_URI is unset and the local development database did not start:", err)
			os.Exit(1)
		}
		defer stop()
		fmt.Println("MONGODB_URI is unset: using the local development database in .data/db")
		getenv = dev
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
	var weak *store.WeakURIError
	if errors.As(err, &weak) {
		return fmt.Errorf("MONGODB_URI %v", weak)
	}
	if err != nil {
		return errors.New("MONGODB_URI is not a valid connection string")
	}
	defer s.Close(context.Background())
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	if err := s.Ping(ctx); err != nil {
		return fmt.Errorf("cannot reach the database (TencentDB for MongoDB answers only inside its VPC): %w", err)
	}
	u := &upgrade{store: s, db: s.Database(), appID: getenv("WECHAT_APPID"), now: time.Now(), out: out}
	if secret := getenv("JWT_SECRET"); secret != "" {
		cfg := &config.Config{JWTSecret: []byte(strings.TrimSpace(secret))}
		keys := app.SMSKeys(cfg)
		u.keys = &keys
	}
	fmt.Fprintf(out, "database %q:\n", database)
	for _, step := range []func(context.Context) error{u.identities, u.sessions, u.phoneOwners} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	if err := indexes(ctx, s, out); err != nil {
		return err
	}
	return u.leftovers(ctx)
}

// indexes sets up the TTL indexes and reports each.
func indexes(ctx context.Context, s *store.Store, out io.Writer) error {
	results, err := s.EnsureIndexes(ctx)
	fmt.Fprintln(out, "indexes:")
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
