// Package mongotest gives each test a fresh database on a real MongoDB wire
// protocol server: the one MONGODB_URI names, or else an embedded FerretDB
// that the test binary starts once for itself. No setup is needed.
package mongotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/embeddeddb"
	"github.com/wxauth/scf-auth/pkg/store"
)

var (
	once     sync.Once
	shared   string
	startErr error
	server   *embeddeddb.Server
	dataDir  string
)

// URI returns the server every test of this binary uses, starting the
// embedded one on first use when MONGODB_URI is unset.
func URI(tb testing.TB) string {
	tb.Helper()
	once.Do(func() {
		if shared = os.Getenv("MONGODB_URI"); shared != "" {
			return
		}
		dataDir, startErr = os.MkdirTemp("", "scf-auth-test-db-")
		if startErr != nil {
			return
		}
		server, startErr = embeddeddb.Start(dataDir, nil)
		if startErr == nil {
			shared = server.URI
		}
	})
	if startErr != nil {
		tb.Fatalf("mongotest: start embedded database: %v", startErr)
	}
	return shared
}

// Stop stops the embedded server, if this binary started one. Call it from
// TestMain after m.Run.
func Stop() {
	if server != nil {
		server.Stop()
		os.RemoveAll(dataDir)
	}
}

// FailNextWrite makes the embedded server fail the next write command in
// database db that match accepts (given the command's name and
// collection), as if the request that sent it had crashed there. On a
// real MongoDB (MONGODB_URI) it skips the test: only the embedded server
// can inject the fault.
func FailNextWrite(tb testing.TB, db string, match func(command, collection string) bool) {
	tb.Helper()
	URI(tb)
	if server == nil {
		tb.Skip("fault injection needs the embedded database; MONGODB_URI is set")
	}
	server.FailNextWrite(db, match)
}

// LoseNextReply lets the next write command in database db that match
// accepts apply, then drops the connection before its reply: the client
// cannot tell whether it applied. On a real MongoDB it skips the test.
func LoseNextReply(tb testing.TB, db string, match func(command, collection string) bool) {
	tb.Helper()
	Embedded(tb).LoseNextReply(db, match)
}

// DuplicateKeyNextWrite answers the next write command in database db that
// match accepts with a duplicate-key error, unapplied. On a real MongoDB it
// skips the test.
func DuplicateKeyNextWrite(tb testing.TB, db string, match func(command, collection string) bool) {
	tb.Helper()
	Embedded(tb).DuplicateKeyNextWrite(db, match)
}

// Embedded returns the embedded server, skipping the test on a real
// MongoDB (MONGODB_URI), where faults cannot be injected.
func Embedded(tb testing.TB) *embeddeddb.Server {
	tb.Helper()
	URI(tb)
	if server == nil {
		tb.Skip("fault injection needs the embedded database; MONGODB_URI is set")
	}
	return server
}

// HoldNextWrite parks the next write command in database db that match
// accepts until release is called (reached is closed when it arrives), so
// that a test can order two requests' writes. On a real MongoDB
// (MONGODB_URI) it skips the test.
func HoldNextWrite(tb testing.TB, db string, match func(command, collection string) bool) (reached <-chan struct{}, release func()) {
	tb.Helper()
	URI(tb)
	if server == nil {
		tb.Skip("holding a write needs the embedded database; MONGODB_URI is set")
	}
	return server.HoldNextWrite(db, match)
}

// Database returns a name no other test uses, dropped when the test ends.
func Database(tb testing.TB) (uri, name string) {
	tb.Helper()
	uri = URI(tb)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name = fmt.Sprintf("t_%s", hex.EncodeToString(b[:]))
	tb.Cleanup(func() {
		s, err := store.Connect(uri, name, "mongotest-cleanup")
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.DropDatabase(ctx)
		_ = s.Close(ctx)
	})
	return uri, name
}

// Store returns a store over a fresh database with its indexes in place.
func Store(tb testing.TB) *store.Store {
	tb.Helper()
	uri, name := Database(tb)
	return StoreFor(tb, uri, name)
}

// StoreFor returns a store over database name at uri, with its indexes in
// place, closed when the test ends.
func StoreFor(tb testing.TB, uri, name string) *store.Store {
	tb.Helper()
	s, err := store.Connect(uri, name, "mongotest")
	if err != nil {
		tb.Fatalf("mongotest: connect: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.EnsureIndexes(ctx); err != nil {
		tb.Fatalf("mongotest: indexes: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// Main runs a package's tests and then stops the embedded server, if the
// tests started one: func TestMain(m *testing.M) { mongotest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}
