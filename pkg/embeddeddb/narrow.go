package embeddeddb

import (
	"encoding/binary"
	"errors"
	"net"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Narrowing a conditional write to its document's _id.
//
// FerretDB v1 looks a document up by its _id (through the index idindex.go
// builds) only when the filter is {_id: value} and nothing more; a filter
// that also has conditions, {_id: value, rev: 3}, reads and decodes every
// document of the collection. MongoDB uses the _id index for both, and the
// store's conditional writes all name their document by _id, so on FerretDB
// alone each of them would cost as much as the collection is large.
//
// The front therefore narrows a write of one statement whose filter is an
// _id (a string or an ObjectID) and conditions: holding the write lock, it
// asks FerretDB whether that one document meets the conditions, with an
// aggregation whose first stage is {$match: {_id: value}}, which FerretDB
// looks up by _id; then it passes the write on with the filter {_id: value}
// when it does, and with a filter that matches no document when it does not
// (an ObjectID made for that write alone, which no document can carry).
// Writes run one at a time (front.go), so the document cannot change in
// between: the write does what the original would have. Upserts (upsert
// given as anything but false), whose filter shapes the document they
// insert, pass unchanged, and so does anything this code does not
// recognise. (The other writes whose effect depends on the filter,
// positional updates and arrayFilters, FerretDB v1 does not support.)

// message is an OP_MSG taken apart: its body and its document sequences.
type message struct {
	header [headerLen]byte
	flags  uint32
	body   bson.Raw
	seqs   []sequence
}

type sequence struct {
	id   string
	docs []bson.Raw
}

const flagChecksum = 1 << 0

func parseMsg(msg []byte) (*message, bool) {
	flags, ok := msgFlags(msg)
	if !ok || flags&flagChecksum != 0 {
		return nil, false
	}
	m := &message{flags: flags}
	copy(m.header[:], msg[:headerLen])
	rest := msg[headerLen+4:]
	for len(rest) > 0 {
		kind := rest[0]
		rest = rest[1:]
		if len(rest) < 4 {
			return nil, false
		}
		size := int(binary.LittleEndian.Uint32(rest[:4]))
		if size < 5 || size > len(rest) {
			return nil, false
		}
		switch kind {
		case 0:
			if m.body != nil || bson.Raw(rest[:size]).Validate() != nil {
				return nil, false
			}
			m.body = bson.Raw(rest[:size])
		case 1:
			id, docs, ok := parseSequence(rest[4:size])
			if !ok {
				return nil, false
			}
			m.seqs = append(m.seqs, sequence{id: id, docs: docs})
		default:
			return nil, false
		}
		rest = rest[size:]
	}
	return m, m.body != nil
}

func parseSequence(b []byte) (string, []bson.Raw, bool) {
	end := strings.IndexByte(string(b), 0)
	if end < 0 {
		return "", nil, false
	}
	id, b := string(b[:end]), b[end+1:]
	var docs []bson.Raw
	for len(b) > 0 {
		if len(b) < 5 {
			return "", nil, false
		}
		size := int(binary.LittleEndian.Uint32(b[:4]))
		if size < 5 || size > len(b) || bson.Raw(b[:size]).Validate() != nil {
			return "", nil, false
		}
		docs, b = append(docs, bson.Raw(b[:size])), b[size:]
	}
	return id, docs, true
}

func (m *message) bytes() []byte {
	out := append([]byte(nil), m.header[:]...)
	out = binary.LittleEndian.AppendUint32(out, m.flags)
	out = append(out, 0)
	out = append(out, m.body...)
	for _, s := range m.seqs {
		size := 4 + len(s.id) + 1
		for _, d := range s.docs {
			size += len(d)
		}
		out = append(out, 1)
		out = binary.LittleEndian.AppendUint32(out, uint32(size))
		out = append(out, s.id...)
		out = append(out, 0)
		for _, d := range s.docs {
			out = append(out, d...)
		}
	}
	binary.LittleEndian.PutUint32(out[0:4], uint32(len(out)))
	return out
}

// target is the one statement of a write: its filter, and how to put
// another filter in its place.
type target struct {
	filter  bson.Raw
	replace func(filter bson.Raw)
}

// targetOf finds the statement of a write of one statement that may be
// narrowed; false for any other.
func targetOf(m *message, command string) (target, bool) {
	switch command {
	case "findAndModify":
		if upserts(m.body) {
			return target{}, false
		}
		q, ok := m.body.Lookup("query").DocumentOK()
		return target{filter: q, replace: func(f bson.Raw) { m.body = withValue(m.body, "query", bson.TypeEmbeddedDocument, f) }}, ok
	case "update", "delete":
		field, filterKey := command+"s", "q"
		stmt, put, ok := onlyStatement(m, field)
		if !ok {
			return target{}, false
		}
		if upserts(stmt) {
			return target{}, false
		}
		q, ok := stmt.Lookup(filterKey).DocumentOK()
		return target{filter: q, replace: func(f bson.Raw) { put(withValue(stmt, filterKey, bson.TypeEmbeddedDocument, f)) }}, ok
	}
	return target{}, false
}

// upserts tells whether a statement may insert: its upsert is present and
// not false (FerretDB, like MongoDB, takes a number for a bool).
func upserts(stmt bson.Raw) bool {
	v, err := stmt.LookupErr("upsert")
	if err != nil {
		return false
	}
	b, ok := v.BooleanOK()
	return !ok || b
}

// onlyStatement is the statement of a write that has exactly one, in the
// body's array field or in the document sequence of that name.
func onlyStatement(m *message, field string) (bson.Raw, func(bson.Raw), bool) {
	for i, s := range m.seqs {
		if s.id == field {
			if len(s.docs) != 1 || m.body.Lookup(field).Type != 0 {
				return nil, nil, false
			}
			return s.docs[0], func(d bson.Raw) { m.seqs[i].docs[0] = d }, true
		}
	}
	arr, ok := m.body.Lookup(field).ArrayOK()
	if !ok {
		return nil, nil, false
	}
	vals, err := arr.Values()
	if err != nil || len(vals) != 1 {
		return nil, nil, false
	}
	stmt, ok := vals[0].DocumentOK()
	if !ok {
		return nil, nil, false
	}
	return stmt, func(d bson.Raw) {
		a := withValue(bson.Raw(arr), "0", bson.TypeEmbeddedDocument, d)
		m.body = withValue(m.body, field, bson.TypeArray, a)
	}, true
}

// split divides a filter into its _id and its other conditions, when it
// names its document by an _id FerretDB can look up and has conditions.
func split(filter bson.Raw) (bson.RawValue, bson.Raw, bool) {
	elems, err := filter.Elements()
	if err != nil || len(elems) < 2 {
		return bson.RawValue{}, nil, false
	}
	var id bson.RawValue
	rest := []byte{0, 0, 0, 0}
	for _, e := range elems {
		if e.Key() != "_id" {
			rest = append(rest, e...)
			continue
		}
		if id.Type != 0 {
			return bson.RawValue{}, nil, false
		}
		if id = e.Value(); id.Type != bson.TypeString && id.Type != bson.TypeObjectID {
			return bson.RawValue{}, nil, false
		}
	}
	if id.Type == 0 {
		return bson.RawValue{}, nil, false
	}
	rest = append(rest, 0)
	binary.LittleEndian.PutUint32(rest, uint32(len(rest)))
	return id, rest, true
}

// withValue is doc with the value of key replaced, its other elements as
// they were, byte for byte.
func withValue(doc bson.Raw, key string, typ bson.Type, value []byte) bson.Raw {
	elems, _ := doc.Elements()
	out := []byte{0, 0, 0, 0}
	for _, e := range elems {
		if e.Key() != key {
			out = append(out, e...)
			continue
		}
		out = append(out, byte(typ))
		out = append(out, key...)
		out = append(out, 0)
		out = append(out, value...)
	}
	out = append(out, 0)
	binary.LittleEndian.PutUint32(out, uint32(len(out)))
	return out
}

// narrow returns the write req narrowed to its document's _id, asking the
// server over conn whether the document meets the write's conditions; req
// itself when it cannot be narrowed. The caller holds the write lock.
func (f *front) narrow(req []byte, cmd command, conn net.Conn) ([]byte, error) {
	m, ok := parseMsg(req)
	if !ok {
		return req, nil
	}
	t, ok := targetOf(m, cmd.name)
	if !ok {
		return req, nil
	}
	id, rest, ok := split(t.filter)
	if !ok {
		return req, nil
	}
	meets, err := f.meets(conn, cmd, id, rest)
	if errors.Is(err, errNotAnswered) {
		return req, nil // the original write will tell the client why
	}
	if err != nil {
		return nil, err
	}
	narrowed := bson.D{{Key: "_id", Value: id}}
	if !meets {
		narrowed = bson.D{{Key: "_id", Value: bson.NewObjectID()}}
	}
	filter, err := bson.Marshal(narrowed)
	if err != nil {
		return nil, err
	}
	t.replace(filter)
	f.narrowed.Add(1)
	return m.bytes(), nil
}

// errNotAnswered means the server refused the question.
var errNotAnswered = errors.New("embeddeddb: the server did not answer whether the document matches")

// meets asks the server whether the document id of the command's
// collection meets the conditions rest.
func (f *front) meets(conn net.Conn, cmd command, id bson.RawValue, rest bson.Raw) (bool, error) {
	body, err := bson.Marshal(bson.D{
		{Key: "aggregate", Value: cmd.collection},
		{Key: "pipeline", Value: bson.A{
			bson.D{{Key: "$match", Value: bson.D{{Key: "_id", Value: id}}}},
			bson.D{{Key: "$match", Value: rest}},
			bson.D{{Key: "$limit", Value: 1}},
			bson.D{{Key: "$project", Value: bson.D{{Key: "_id", Value: 1}}}},
		}},
		{Key: "cursor", Value: bson.D{}},
		{Key: "$db", Value: cmd.db},
	})
	if err != nil {
		return false, err
	}
	msg := make([]byte, headerLen+4+1, headerLen+4+1+len(body))
	binary.LittleEndian.PutUint32(msg[4:8], uint32(1<<30+f.questions.Add(1)))
	binary.LittleEndian.PutUint32(msg[12:16], opMsg)
	msg = append(msg, body...)
	binary.LittleEndian.PutUint32(msg[0:4], uint32(len(msg)))
	if _, err := conn.Write(msg); err != nil {
		return false, err
	}
	reply, err := readMessage(conn)
	if err != nil {
		return false, err
	}
	if _, isMsg := msgFlags(reply); !isMsg || len(reply) < headerLen+5 || reply[20] != 0 {
		return false, errNotAnswered
	}
	answer := bson.Raw(reply[21:])
	if ok, _ := answer.Lookup("ok").AsFloat64OK(); ok != 1 {
		return false, errNotAnswered
	}
	batch, ok := answer.Lookup("cursor", "firstBatch").ArrayOK()
	if !ok {
		return false, errNotAnswered
	}
	docs, err := batch.Values()
	if err != nil {
		return false, errNotAnswered
	}
	return len(docs) > 0, nil
}
