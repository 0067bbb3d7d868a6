package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/wxauth/scf-auth/pkg/store"
)

// exported is everything stored about one account, for a person's access
// request (PIPL art. 45): the documents as stored, in MongoDB's relaxed
// Extended JSON, with only the hashes of its secrets left out.
type exported struct {
	ExportedAt string `json:"exportedAt"`
	ExportedBy string `json:"exportedBy"`
	// Account is the account's document: profile, identities, sessions
	// (what signed in, when and from what) and its recent events.
	Account json.RawMessage `json:"account"`
	// Identities are the claims that hold its phone and WeChat for it.
	Identities []json.RawMessage `json:"identities"`
	// SMS is what send-sms keeps about its phone (sends, the current
	// code's times, the account that last used a code), or null.
	SMS json.RawMessage `json:"sms"`
	// Audit is its audit trail, oldest first.
	Audit []store.AuditEntry `json:"audit"`
	// Omitted says what is stored and not exported, and why.
	Omitted []string `json:"omitted"`
}

// Fields of stored documents that are hashes of secrets (refresh tokens,
// SMS codes): no information about the person, and of use only to an
// attacker.
var (
	sessionSecrets = []string{"tokenHash", "prevHash"}
	codeSecrets    = []string{"hash", "nonce"}
)

// export prints everything stored about the account as JSON, after the
// audit entry saying who exported it.
func export(ctx context.Context, t *tool, inv *invocation) error {
	u, err := t.find(ctx, inv)
	if err != nil {
		return err
	}
	db := t.store.Database()
	account, err := rawByID(ctx, db.Collection("users"), u.ID)
	if err != nil {
		return err
	}
	if sessions, ok := lookup(account, "sessions"); ok {
		for i := range sessions {
			if s, ok := sessions[i].Value.(bson.D); ok {
				sessions[i].Value = without(s, sessionSecrets...)
			}
		}
	}
	out := exported{
		ExportedAt: stamp(t.now()), ExportedBy: inv.by, Identities: []json.RawMessage{},
		Omitted: []string{"the hashes of its refresh tokens and SMS codes (sessions.*.tokenHash, prevHash; sms code hash and nonce): they hold nothing about the person"},
	}
	if out.Account, err = extJSON(account); err != nil {
		return err
	}
	for _, id := range u.Identities() {
		claim, err := rawByID(ctx, db.Collection("identities"), string(id))
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return err
		}
		raw, err := extJSON(claim)
		if err != nil {
			return err
		}
		out.Identities = append(out.Identities, raw)
	}
	out.SMS = json.RawMessage("null")
	switch {
	case !u.HasPhone():
	case t.keys == nil:
		out.Omitted = append(out.Omitted, "the SMS records of its phone: set JWT_SECRET (the functions' value) to include them")
		fmt.Fprintln(t.errOut, "admin: JWT_SECRET is unset: the SMS records of the phone are not in the export")
	default:
		sms, err := rawByID(ctx, db.Collection("sms"), t.keys.Phone(u.Phone))
		switch {
		case errors.Is(err, mongo.ErrNoDocuments):
		case err != nil:
			return err
		default:
			for _, field := range []string{"code", "spent"} {
				if i := indexOf(sms, field); i >= 0 {
					if c, ok := sms[i].Value.(bson.D); ok {
						sms[i].Value = without(c, codeSecrets...)
					}
				}
			}
			if out.SMS, err = extJSON(sms); err != nil {
				return err
			}
		}
	}
	if err := t.store.Audit(asOperator(ctx, inv), u.ID, store.EventAccountExported, t.now()); err != nil {
		return err
	}
	if out.Audit, err = t.store.AuditTrail(ctx, u.ID); err != nil {
		return err
	}
	enc := json.NewEncoder(t.out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// rawByID reads one document by _id as stored.
func rawByID(ctx context.Context, c *mongo.Collection, id any) (bson.D, error) {
	var d bson.D
	err := c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	return d, err
}

func extJSON(d bson.D) (json.RawMessage, error) {
	b, err := bson.MarshalExtJSON(d, false, false)
	return json.RawMessage(b), err
}

func indexOf(d bson.D, key string) int {
	for i, e := range d {
		if e.Key == key {
			return i
		}
	}
	return -1
}

// lookup returns the subdocument d holds under key.
func lookup(d bson.D, key string) (bson.D, bool) {
	if i := indexOf(d, key); i >= 0 {
		sub, ok := d[i].Value.(bson.D)
		return sub, ok
	}
	return nil, false
}

// without is d without the keys.
func without(d bson.D, keys ...string) bson.D {
	out := bson.D{}
	for _, e := range d {
		if !slices.Contains(keys, e.Key) {
			out = append(out, e)
		}
	}
	return out
}
