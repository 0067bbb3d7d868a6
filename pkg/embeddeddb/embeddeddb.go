// Package embeddeddb runs FerretDB v1 in process, with its SQLite backend,
// as a real MongoDB wire-protocol server for tests and the local gateway. It
// is never linked into a function.
//
// Two things make it behave like the MongoDB it stands in for, where
// FerretDB v1 alone does not: clients reach FerretDB through a front
// (front.go) that runs write commands one at a time, so that each write to
// a document is atomic; and each collection gets an index that lookups by
// _id actually use (idindex.go), also when a write's filter has conditions
// besides the _id (narrow.go), so that they cost the same however large
// the collection grows. The front also answers a duplicate key with
// MongoDB's code 11000 where FerretDB does not. Tests can ask the front to
// fail a chosen write, to apply it and lose its reply, to delay writes, or
// to do any of these at random, to see what the store makes of a database
// that fails as real ones do.
package embeddeddb

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Server is a running embedded database.
type Server struct {
	URI    string
	front  *front
	ids    *idIndexer
	cancel context.CancelFunc
	done   chan struct{}
}

// Start serves a database whose files live in dir, on a free loopback port.
// logger may be nil to discard FerretDB's own logs.
func Start(dir string, logger *slog.Logger) (*Server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("embeddeddb: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = f.Run(ctx)
	}()
	if err := waitListening(addr, 10*time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	s.ids = newIDIndexer(abs)
	if err := s.ids.indexAll(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	if s.front, err = startFront(addr, s.ids); err != nil {
		s.Stop()
		return nil, err
	}
	s.URI = "mongodb://" + s.front.addr() + "/"
	return s, nil
}

// FailNextWrite makes the next write command (insert, update, delete or
// findAndModify) in database db that match accepts fail: the connection
// drops before the write reaches the server, as if it had gone away in the
// middle of a request. match gets the command's name and collection.
func (s *Server) FailNextWrite(db string, match func(command, collection string) bool) {
	s.front.addFault(db, failBefore, match)
}

// LoseNextReply lets the next write command in database db that match
// accepts apply, then drops the connection before its reply reaches the
// client: the client cannot tell whether it applied, as after a timeout or
// a failover.
func (s *Server) LoseNextReply(db string, match func(command, collection string) bool) {
	s.front.addFault(db, loseReply, match)
}

// DuplicateKeyNextWrite answers the next write command in database db that
// match accepts with a duplicate-key error, without applying it, as MongoDB
// before 4.2 and sharded clusters may answer one of two upserts racing to
// insert one new _id.
func (s *Server) DuplicateKeyNextWrite(db string, match func(command, collection string) bool) {
	s.front.addFault(db, duplicateBefore, match)
}

// SetRandomFaults injects faults drawn from rf into every later write
// command of database db; the zero RandomFaults stops them. It returns how
// many faults were injected under the settings it replaces.
func (s *Server) SetRandomFaults(db string, rf RandomFaults) FaultCounts {
	return s.front.setRandomFaults(db, rf)
}

// HoldNextWrite parks the next write command in database db that match
// accepts, before the server sees it, until release is called; reached is
// closed when it arrives. Other commands go on meanwhile: a test can so
// make one request's write come after another request's.
func (s *Server) HoldNextWrite(db string, match func(command, collection string) bool) (reached <-chan struct{}, release func()) {
	return s.front.holdNext(db, match)
}

// NarrowedWrites counts the conditional writes the server looked up by
// their document's _id (narrow.go), for tests of the server itself.
func (s *Server) NarrowedWrites() int64 { return s.front.narrowed.Load() }

// Stop shuts the server down and waits for it.
func (s *Server) Stop() {
	if s.front != nil {
		s.front.close()
	}
	if s.ids != nil {
		s.ids.close()
	}
	s.cancel()
	<-s.done
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitListening(addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("embeddeddb: not listening on %s: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
