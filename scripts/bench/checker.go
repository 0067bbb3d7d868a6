package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wxauth/scf-auth/pkg/embeddeddb"
	"github.com/wxauth/scf-auth/scripts/internal/checker"
	"github.com/wxauth/scf-auth/scripts/internal/localscf"
)

// checkInvariants is `bench checker`: the randomized invariant checker's
// long run (scripts/internal/checker), on an embedded database in this
// process, which injects the faults.
func checkInvariants(args []string) error {
	fs := flag.NewFlagSet("checker", flag.ExitOnError)
	ops := fs.Int("ops", 100000, "operations")
	seed := fs.Uint64("seed", 0, "seed (0: from the clock)")
	clients := fs.Int("c", 8, "concurrent clients")
	people := fs.Int("people", 6, "people in the pool")
	_ = fs.Parse(args)
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "scf-auth-checker-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	db, err := embeddeddb.Start(filepath.Join(tmp, "db"), nil)
	if err != nil {
		return err
	}
	defer db.Stop()
	fmt.Fprintln(os.Stderr, "building functions…")
	bin := filepath.Join(tmp, "bin")
	if err := localscf.Build(context.Background(), root, bin); err != nil {
		return err
	}
	ctx := context.Background()
	w, err := checker.Start(ctx, checker.Setup{Root: root, BinDir: bin, URI: db.URI, Database: "checker", Faults: db})
	if err != nil {
		return err
	}
	defer w.Close()
	o := checker.DefaultOptions(*seed, *ops)
	o.Clients, o.People = *clients, *people
	start := time.Now()
	o.Progress = func(done int) {
		if done%10000 == 0 {
			fmt.Fprintf(os.Stderr, "%d operations, %s\n", done, time.Since(start).Round(time.Second))
		}
	}
	fmt.Printf("checker: seed %d, %d operations, %d clients, %d people\n", *seed, *ops, *clients, *people)
	report, err := checker.Run(ctx, w, o)
	if err != nil {
		return err
	}
	fmt.Print(report)
	fmt.Printf("took %s\n", time.Since(start).Round(time.Second))
	if len(report.Violations) > 0 {
		return errors.New("invariants violated")
	}
	return nil
}
