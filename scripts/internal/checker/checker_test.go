package checker_test

import (
	"context"
	"flag"
	"os"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/mongotest"
	"github.com/wxauth/scf-auth/scripts/internal/checker"
	"github.com/wxauth/scf-auth/scripts/internal/localscf"
)

var (
	seed = flag.Uint64("seed", 0, "seed of the run (0: from the clock)")
	ops  = flag.Int("ops", 0, "operations of the run (0: 1,500, or 500 under the race detector)")
)

const root = "../../.."

var binDir string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "scf-auth-checker-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	if err := localscf.Build(context.Background(), root, binDir); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	mongotest.Stop()
	os.Exit(code)
}

// TestInvariantsUnderRandomConcurrentRequestsAndFaults runs random
// concurrent requests of a few people while the database fails at random,
// and checks the stored state after them. The seed is printed; run again
// with -args -seed N to repeat its sequences.
func TestInvariantsUnderRandomConcurrentRequestsAndFaults(t *testing.T) {
	s := *seed
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (repeat with: go test ./scripts/internal/checker -run Invariants -args -seed %d)", s, s)
	uri, db := mongotest.Database(t)
	w, err := checker.Start(t.Context(), checker.Setup{Root: root, BinDir: binDir, URI: uri, Database: db, Faults: mongotest.Embedded(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	n := *ops
	if n == 0 {
		n = 1500
		if raceDetector {
			n = 500
		}
	}
	report, err := checker.Run(t.Context(), w, checker.DefaultOptions(s, n))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(report)
	if len(report.Violations) > 0 {
		t.Fatalf("%d violations (seed %d)", len(report.Violations), s)
	}
	if report.Faults.FailedBefore == 0 || report.Faults.RepliesLost == 0 {
		t.Fatalf("no faults were injected: %+v", report.Faults)
	}
}
