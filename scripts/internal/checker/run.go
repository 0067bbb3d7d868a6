package checker

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wxauth/scf-auth/pkg/embeddeddb"
)

// Options say how long and how hard a run is.
type Options struct {
	Seed    uint64
	Ops     int
	Clients int
	People  int
	// The faults drawn for every database write while the operations run.
	FailBefore, LoseReply, Delay float64
	MaxDelay                     time.Duration
	// Progress, when set, is told every 1,000 operations.
	Progress func(done int)
}

// DefaultOptions are the faults of a run: about 6% of writes fail, half
// of them after they applied.
func DefaultOptions(seed uint64, ops int) Options {
	return Options{Seed: seed, Ops: ops, Clients: 8, People: 6, FailBefore: 0.03, LoseReply: 0.03, Delay: 0.05, MaxDelay: 30 * time.Millisecond}
}

// Report is what a run did and found.
type Report struct {
	Seed     uint64
	Ops      int
	Requests int
	// Codes counts the answers by code.
	Codes  map[string]int
	Faults embeddeddb.FaultCounts
	// Settled is how many identities needed settling after the run.
	Settled    int
	Violations []string
	// Trail lists, for a failed run, the operations of the people and
	// accounts involved.
	Trail []string
	// ErrorLogs are the functions' log lines of INTERNAL answers and data
	// races.
	ErrorLogs []string
}

func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d: %d operations, %d requests; faults %+v; %d identities settled after the run; %d violations\n",
		r.Seed, r.Ops, r.Requests, r.Faults, r.Settled, len(r.Violations))
	codes := make([]string, 0, len(r.Codes))
	for c := range r.Codes {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		fmt.Fprintf(&b, "  %s %d\n", c, r.Codes[c])
	}
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "VIOLATION %s\n", v)
	}
	for i, l := range r.ErrorLogs {
		if i == 50 {
			fmt.Fprintf(&b, "  … %d more error lines\n", len(r.ErrorLogs)-50)
			break
		}
		fmt.Fprintf(&b, "ERROR LOG %s\n", l)
	}
	if len(r.Trail) > 0 {
		fmt.Fprintf(&b, "the requests that led there:\n")
		for _, t := range r.Trail {
			fmt.Fprintf(&b, "  %s\n", t)
		}
	}
	return b.String()
}

// Run runs the operations, then stops the faults, settles what they left
// and checks the stored state.
func Run(ctx context.Context, w *World, o Options) (*Report, error) {
	people := newPeople(o.People)
	rec := &recorder{}
	bk := newBook()
	w.Faults.SetRandomFaults(w.Database, embeddeddb.RandomFaults{
		Seed: o.Seed, FailBefore: o.FailBefore, LoseReply: o.LoseReply, Delay: o.Delay, MaxDelay: o.MaxDelay,
	})
	var next atomic.Int64
	var wg sync.WaitGroup
	total := 0
	for _, op := range operations {
		total += op.weight
	}
	for i := 0; i < o.Clients; i++ {
		c := &client{id: i, w: w, rnd: rand.New(rand.NewPCG(o.Seed, uint64(i)+1)), people: people, book: bk, rec: rec}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				seq := int(next.Add(1))
				if seq > o.Ops {
					return
				}
				pick := c.rnd.IntN(total)
				for _, kind := range operations {
					if pick -= kind.weight; pick < 0 {
						run := &op{seq: seq, client: c.id, person: c.onePerson(), name: kind.name, c: c}
						kind.run(c, ctx, run)
						rec.done(run)
						break
					}
				}
				if o.Progress != nil && seq%1000 == 0 {
					o.Progress(seq)
				}
			}
		}()
	}
	wg.Wait()
	counts := w.Faults.SetRandomFaults(w.Database, embeddeddb.RandomFaults{})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &Report{Seed: o.Seed, Ops: min(o.Ops, int(next.Load())), Faults: counts, Codes: rec.codes()}
	r.Requests = rec.requests
	settled, err := checkState(ctx, w, r)
	if err != nil {
		return nil, err
	}
	r.Settled = settled
	r.Violations = append(rec.violations, r.Violations...)
	if len(r.Violations) > 0 {
		r.Trail = rec.trail(r.Violations)
	}
	r.ErrorLogs = w.Logs.Lines()
	return r, nil
}

// recorder keeps every operation and every violation.
type recorder struct {
	mu         sync.Mutex
	ops        []*op
	violations []string
	requests   int
}

func (r *recorder) done(o *op) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, o)
	r.requests += len(o.steps)
}

func (r *recorder) violation(o *op, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.violations = append(r.violations, fmt.Sprintf("op %d (%s of %s, client %d): %s", o.seq, o.name, o.person.name, o.client, msg))
}

func (r *recorder) codes() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	codes := map[string]int{}
	for _, o := range r.ops {
		for _, s := range o.steps {
			_, ans, _ := strings.Cut(s, " → ")
			fields := strings.Fields(ans)
			switch {
			case len(fields) >= 2 && fields[0] != "error:":
				codes[fields[1]]++
			case len(fields) >= 1:
				codes[fields[0]]++
			}
		}
	}
	return codes
}

// trail lists the operations of every person a violation names, and of
// every person whose operation touched an account a violation names, in
// the order they were recorded.
func (r *recorder) trail(violations []string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	text := strings.Join(violations, "\n")
	var out []string
	for _, o := range r.ops {
		involved := strings.Contains(text, " of "+o.person.name+",") || strings.Contains(text, o.person.phones[0]) ||
			strings.Contains(text, o.person.phones[1]) || strings.Contains(text, o.person.wechat.OpenID)
		for _, s := range o.steps {
			if i := strings.Index(s, "user "); i >= 0 && len(s) >= i+5+24 && strings.Contains(text, s[i+5:i+5+24]) {
				involved = true
			}
		}
		if involved {
			out = append(out, fmt.Sprintf("op %d client %d %s of %s: %s", o.seq, o.client, o.name, o.person.name, strings.Join(o.steps, "; ")))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return opSeq(out[i]) < opSeq(out[j]) })
	return out
}

func opSeq(line string) int {
	var n int
	_, _ = fmt.Sscanf(line, "op %d", &n)
	return n
}
