package embeddeddb

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// front sits between clients and FerretDB on the MongoDB wire protocol.
// It passes every message through unchanged, except that it runs write
// commands one at a time, and answers a write a test asked to fail with an
// error instead of passing it on.
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

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	faults []fault
	holds  []hold
	closed bool
	done   sync.WaitGroup
}

// fault fails the next write command in database db for which match says so.
type fault struct {
	db    string
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

// failNext makes the next write command on collection of database db
// whose command name and collection match fail with an error reply.
func (f *front) failNext(db string, match func(command, collection string) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, fault{db: db, match: match})
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

// takeFault removes and reports the first fault matching a write.
func (f *front) takeFault(db, command, collection string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, ft := range f.faults {
		if ft.db == db && ft.match(command, collection) {
			f.faults = slices.Delete(f.faults, i, i+1)
			return true
		}
	}
	return false
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
	if write {
		// Parked before the write lock, so that other writes go on.
		f.wait(cmd.db, cmd.name, cmd.collection)
		f.writes.Lock()
		defer f.writes.Unlock()
		if f.takeFault(cmd.db, cmd.name, cmd.collection) {
			_, err := client.Write(errorReply(req, "write failed on purpose (a test injected this fault)"))
			return err
		}
	}
	if ok && slices.Contains(schemaCommands, cmd.name) {
		defer f.ids.forget(cmd.db)
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
func errorReply(req []byte, message string) []byte {
	body, _ := bson.Marshal(bson.D{ // a fixed document always marshals
		{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: message},
		{Key: "code", Value: int32(1)}, {Key: "codeName", Value: "InternalError"},
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
