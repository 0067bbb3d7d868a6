package embeddeddb

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// front sits between clients and FerretDB on the MongoDB wire protocol.
// It passes every message through unchanged, except that it runs write
// commands one at a time, narrows a conditional write of one document to
// its _id (narrow.go), answers a duplicate key as MongoDB does (code
// 11000), and injects the faults a test asks for (faults.go).
//
// FerretDB v1 applies an update (and findAndModify) as a read of the
// matching documents followed by a separate write of the new versions, so
// two concurrent updates of one document can both match it and the later
// write silently undoes the earlier one. MongoDB applies every write to a
// document atomically, and the store relies on that (a conditional update
// has one winner, $inc and $push lose nothing). Running writes one at a time
// gives the embedded server the same guarantee. Reads are not held back.
type front struct {
	backend  string
	listener net.Listener
	// ids indexes each collection FerretDB creates (idindex.go).
	ids *idIndexer

	// writes is held from a write command's request until its reply.
	writes sync.Mutex
	// narrowed counts the writes narrowed to their document's _id
	// (narrow.go).
	narrowed atomic.Int64
	// questions numbers the front's own requests (narrow.go), counted
	// from far above the driver's request ids.
	questions atomic.Int32

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	faults []fault
	holds  []hold
	random map[string]*randomFaults // by database
	closed bool
	done   sync.WaitGroup
}

// Commands that write. They are serialized; every other command passes.
var writeCommands = []string{"insert", "update", "delete", "findAndModify"}

// Commands after which the collections of a database may be other ones.
var schemaCommands = []string{"drop", "dropDatabase", "renameCollection"}

// Wire protocol constants.
const (
	opMsg          = 2013
	headerLen      = 16
	flagMoreToCome = 1 << 1
	maxMessage     = 48 << 20
)

func startFront(backend string, ids *idIndexer) (*front, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &front{backend: backend, listener: l, ids: ids, conns: map[net.Conn]struct{}{}}
	f.done.Add(1)
	go f.accept()
	return f, nil
}

func (f *front) addr() string { return f.listener.Addr().String() }

func (f *front) accept() {
	defer f.done.Done()
	for {
		c, err := f.listener.Accept()
		if err != nil {
			return
		}
		if !f.track(c) {
			c.Close()
			return
		}
		f.done.Add(1)
		go func() {
			defer f.done.Done()
			defer f.untrack(c)
			f.serve(c)
		}()
	}
}

func (f *front) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *front) untrack(c net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.conns, c)
	c.Close()
}

// close stops accepting, ends every connection and waits for them.
func (f *front) close() {
	f.mu.Lock()
	f.closed = true
	f.listener.Close()
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.done.Wait()
}

// serve relays one client connection: each request, then its replies.
func (f *front) serve(client net.Conn) {
	server, err := net.Dial("tcp", f.backend)
	if err != nil {
		return
	}
	f.mu.Lock()
	f.conns[server] = struct{}{}
	f.mu.Unlock()
	defer f.untrack(server)
	for {
		req, err := readMessage(client)
		if err != nil {
			return
		}
		if err := f.relay(req, client, server); err != nil {
			return
		}
	}
}

// relay passes one request on and its replies back, holding the write lock
// for a write command until its reply has come.
func (f *front) relay(req []byte, client, server net.Conn) error {
	cmd, ok := parseCommand(req)
	write := ok && slices.Contains(writeCommands, cmd.name)
	var outcome faultKind
	if write {
		// Parked and delayed before the write lock, so that other writes go on.
		f.wait(cmd.db, cmd.name, cmd.collection)
		var delay time.Duration
		outcome, delay = f.takeFault(cmd.db, cmd.name, cmd.collection)
		time.Sleep(delay)
		f.writes.Lock()
		defer f.writes.Unlock()
		switch outcome {
		case failBefore:
			// The connection drops before the write reaches the server.
			return errDroppedBefore
		case duplicateBefore:
			_, err := client.Write(errorReply(req, 11000, "DuplicateKey", "E11000 duplicate key error (a test injected this fault)"))
			return err
		}
	}
	if ok && slices.Contains(schemaCommands, cmd.name) {
		defer f.ids.forget(cmd.db)
	}
	if write {
		var err error
		if req, err = f.narrow(req, cmd, server); err != nil {
			return err
		}
	}
	if _, err := server.Write(req); err != nil {
		return err
	}
	if ok && cmd.flags&flagMoreToCome != 0 {
		return nil // the client expects no reply
	}
	for {
		reply, err := readMessage(server)
		if err != nil {
			return err
		}
		if write {
			// The write may have created the collection: index it before
			// the client learns of it, still holding the write lock.
			f.ids.ensure(cmd.db, cmd.collection)
			if outcome == loseReply {
				// Applied, and the connection drops before the client
				// hears so: a timeout or a failover at the worst moment.
				return errReplyLost
			}
			reply = duplicateKeyAsMongoDB(req, reply)
		}
		if _, err := client.Write(reply); err != nil {
			return err
		}
		// A reply flagged moreToCome (an exhaust cursor, a streaming hello)
		// is followed by more replies without another request.
		if flags, isMsg := msgFlags(reply); !isMsg || flags&flagMoreToCome == 0 {
			return nil
		}
	}
}

func readMessage(r io.Reader) ([]byte, error) {
	var header [headerLen]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}
	n := int(binary.LittleEndian.Uint32(header[0:4]))
	if n < headerLen || n > maxMessage {
		return nil, fmt.Errorf("embeddeddb: bad message length %d", n)
	}
	msg := make([]byte, n)
	copy(msg, header[:])
	if _, err := io.ReadFull(r, msg[headerLen:]); err != nil {
		return nil, err
	}
	return msg, nil
}

// command is what the front needs to know of a request.
type command struct {
	name, db, collection string
	flags                uint32
}

func msgFlags(msg []byte) (uint32, bool) {
	if len(msg) < headerLen+4 || binary.LittleEndian.Uint32(msg[12:16]) != opMsg {
		return 0, false
	}
	return binary.LittleEndian.Uint32(msg[16:20]), true
}

// parseCommand reads the command of an OP_MSG: the first key of its body
// section names the command, and its value the collection.
func parseCommand(msg []byte) (command, bool) {
	flags, ok := msgFlags(msg)
	if !ok {
		return command{}, false
	}
	rest := msg[headerLen+4:]
	for len(rest) > 0 {
		kind := rest[0]
		rest = rest[1:]
		if len(rest) < 4 {
			return command{}, false
		}
		size := int(binary.LittleEndian.Uint32(rest[:4]))
		if size < 5 || size > len(rest) {
			return command{}, false
		}
		if kind != 0 {
			rest = rest[size:] // a document sequence
			continue
		}
		body := bson.Raw(rest[:size])
		elems, err := body.Elements()
		if err != nil || len(elems) == 0 {
			return command{}, false
		}
		c := command{name: elems[0].Key(), flags: flags}
		c.collection, _ = elems[0].Value().StringValueOK()
		c.db, _ = body.Lookup("$db").StringValueOK()
		return c, true
	}
	return command{}, false
}

// errorReply is an OP_MSG answering req with a failed command.
func errorReply(req []byte, code int32, codeName, message string) []byte {
	body, _ := bson.Marshal(bson.D{ // a fixed document always marshals
		{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: message},
		{Key: "code", Value: code}, {Key: "codeName", Value: codeName},
	})
	msg := make([]byte, headerLen+4+1+len(body))
	binary.LittleEndian.PutUint32(msg[0:4], uint32(len(msg)))
	binary.LittleEndian.PutUint32(msg[4:8], 0)
	copy(msg[8:12], req[4:8]) // responseTo is the request's id
	binary.LittleEndian.PutUint32(msg[12:16], opMsg)
	binary.LittleEndian.PutUint32(msg[16:20], 0)
	msg[20] = 0
	copy(msg[21:], body)
	return msg
}

// duplicateKeyAsMongoDB rewrites the reply of a write that broke a unique
// index into MongoDB's answer. FerretDB v1 answers an insert that way
// already, but an update or findAndModify with an internal error quoting
// SQLite; MongoDB answers code 11000 (DuplicateKey) for both, and that code
// is all the store looks for.
func duplicateKeyAsMongoDB(req, reply []byte) []byte {
	if _, isMsg := msgFlags(reply); !isMsg || len(reply) < headerLen+5 || reply[20] != 0 {
		return reply
	}
	body := bson.Raw(reply[21:])
	ok, _ := body.Lookup("ok").AsFloat64OK()
	msg, _ := body.Lookup("errmsg").StringValueOK()
	if ok != 0 || !strings.Contains(msg, "UNIQUE constraint failed") {
		return reply
	}
	return errorReply(req, 11000, "DuplicateKey", "E11000 duplicate key error")
}
