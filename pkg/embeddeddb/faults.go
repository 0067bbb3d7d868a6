package embeddeddb

import (
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// The faults the front injects into write commands, for tests that must
// see what the store does when the database fails in the ways real ones
// do: the connection drops before the write reaches the server
// (failBefore), or after the write applied but before its reply reached
// the client (loseReply: a timeout, a failover at the worst moment), which
// is the failure that makes a client unsure of what it wrote. The client
// sees the same network error either way. Either may come late (a delay
// before the write).
type faultKind int

const (
	noFault faultKind = iota
	failBefore
	loseReply
	// duplicateBefore answers a duplicate key without applying the write:
	// what MongoDB before 4.2, and a sharded cluster, may answer one of two
	// upserts racing to insert one new _id.
	duplicateBefore
)

// errDroppedBefore and errReplyLost end the connection of a write that
// must seem lost, before and after it applied.
var (
	errDroppedBefore = errors.New("embeddeddb: write dropped on purpose (a test injected this fault)")
	errReplyLost     = errors.New("embeddeddb: reply dropped on purpose (a test injected this fault)")
)

// fault is a one-off fault of the next write command in database db for
// which match says so.
type fault struct {
	db    string
	kind  faultKind
	match func(command, collection string) bool
}

// hold parks the next write command in database db for which match says
// so, before it is sent, until release is closed; reached is closed when
// it arrives.
type hold struct {
	db      string
	match   func(command, collection string) bool
	reached chan struct{}
	release chan struct{}
}

// RandomFaults are faults drawn at random for every write command of a
// database, from a seeded source: each write fails before it applies with
// probability FailBefore, else loses its reply with probability LoseReply,
// and independently waits a random time up to MaxDelay with probability
// Delay.
type RandomFaults struct {
	Seed       uint64
	FailBefore float64
	LoseReply  float64
	Delay      float64
	MaxDelay   time.Duration
}

// FaultCounts say how many faults of each kind were injected.
type FaultCounts struct {
	Writes, FailedBefore, RepliesLost, Delayed int
}

// randomFaults draws the faults of one database.
type randomFaults struct {
	RandomFaults
	mu     sync.Mutex
	rnd    *rand.Rand
	counts FaultCounts
}

func (r *randomFaults) draw() (faultKind, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts.Writes++
	kind := noFault
	switch p := r.rnd.Float64(); {
	case p < r.FailBefore:
		kind = failBefore
		r.counts.FailedBefore++
	case p < r.FailBefore+r.LoseReply:
		kind = loseReply
		r.counts.RepliesLost++
	}
	var delay time.Duration
	if r.MaxDelay > 0 && r.rnd.Float64() < r.Delay {
		delay = time.Duration(r.rnd.Int64N(int64(r.MaxDelay)))
		r.counts.Delayed++
	}
	return kind, delay
}

// addFault queues a one-off fault of the next write matching.
func (f *front) addFault(db string, kind faultKind, match func(command, collection string) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, fault{db: db, kind: kind, match: match})
}

// setRandomFaults draws faults for every write of database db from now on;
// the zero RandomFaults stops them. It returns the counts so far.
func (f *front) setRandomFaults(db string, rf RandomFaults) FaultCounts {
	f.mu.Lock()
	defer f.mu.Unlock()
	var counts FaultCounts
	if old := f.random[db]; old != nil {
		old.mu.Lock()
		counts = old.counts
		old.mu.Unlock()
	}
	if rf == (RandomFaults{}) {
		delete(f.random, db)
		return counts
	}
	if f.random == nil {
		f.random = map[string]*randomFaults{}
	}
	f.random[db] = &randomFaults{RandomFaults: rf, rnd: rand.New(rand.NewPCG(rf.Seed, rf.Seed^0x9e3779b97f4a7c15))}
	return counts
}

// holdNext parks the next write command matching in database db until
// the returned release is called; reached is closed when it arrives.
func (f *front) holdNext(db string, match func(command, collection string) bool) (reached <-chan struct{}, release func()) {
	h := hold{db: db, match: match, reached: make(chan struct{}), release: make(chan struct{})}
	f.mu.Lock()
	f.holds = append(f.holds, h)
	f.mu.Unlock()
	var once sync.Once
	return h.reached, func() { once.Do(func() { close(h.release) }) }
}

// wait parks a write if a hold matches it, until the hold is released.
func (f *front) wait(db, command, collection string) {
	f.mu.Lock()
	var h *hold
	for i, candidate := range f.holds {
		if candidate.db == db && candidate.match(command, collection) {
			h = &candidate
			f.holds = slices.Delete(f.holds, i, i+1)
			break
		}
	}
	f.mu.Unlock()
	if h != nil {
		close(h.reached)
		<-h.release
	}
}

// takeFault decides what happens to a write: the first one-off fault
// matching it (which is used up), else a random draw for its database.
func (f *front) takeFault(db, command, collection string) (faultKind, time.Duration) {
	f.mu.Lock()
	for i, ft := range f.faults {
		if ft.db == db && ft.match(command, collection) {
			f.faults = slices.Delete(f.faults, i, i+1)
			f.mu.Unlock()
			return ft.kind, 0
		}
	}
	r := f.random[db]
	f.mu.Unlock()
	if r == nil {
		return noFault, 0
	}
	return r.draw()
}
