package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// indexSpec is one index the queries of this package need.
type indexSpec struct {
	collection string
	name       string
	keys       bson.D
	unique     bool
	sparse     bool
	ttl        bool // expire documents at their expiresAt
	why        string
}

// wantedIndexes are only TTL indexes: every query names its document by
// _id, which needs no index, and one account per identity is kept by the
// claims, not by unique indexes. They keep storage small where the server
// has them; correctness never depends on them.
var wantedIndexes = []indexSpec{
	{collSMS, "expiresAt_ttl", bson.D{{Key: "expiresAt", Value: 1}}, false, false, true,
		"drop SMS send records, codes, counters and used captcha tickets once they no longer count"},
	{collLegacySessions, "expiresAt_ttl", bson.D{{Key: "expiresAt", Value: 1}}, false, false, true,
		"drop the upgrade's lookups of earlier sessions once those expire"},
	{collWeChatTokens, "expiresAt_ttl", bson.D{{Key: "expiresAt", Value: 1}}, false, false, true,
		"drop expired WeChat tokens and leases"},
	{collAudit, "expiresAt_ttl", bson.D{{Key: "expiresAt", Value: 1}}, false, false, true,
		"drop audit entries AUDIT_RETENTION after their event"},
}

// Index outcomes.
const (
	IndexCreated     = "created"
	IndexExists      = "exists"
	IndexUnsupported = "unsupported"
	IndexDiffers     = "differs"
)

// IndexResult is what EnsureIndexes did about one index.
type IndexResult struct {
	Collection string
	Name       string
	Outcome    string
	// Note says what the server could not do, or how an index differs.
	Note string
	Why  string
}

func (r IndexResult) String() string {
	s := fmt.Sprintf("%-18s %-15s %-11s %s", r.Collection, r.Name, r.Outcome, r.Why)
	if r.Note != "" {
		s += "\n    note: " + r.Note
	}
	return s
}

// Error codes a server answers for index options it does not implement.
const (
	codeNotImplemented      = 238
	codeCommandNotSupported = 115
	codeInvalidIndexOption  = 197
)

// EnsureIndexes creates the indexes the store needs and reports each one.
// It is idempotent: a second run creates nothing. Indexes a server cannot
// build (TTL on the embedded FerretDB) are reported and skipped; an index
// of the same name with different options is reported, never dropped.
func (s *Store) EnsureIndexes(ctx context.Context) ([]IndexResult, error) {
	existing := map[string]map[string]mongo.IndexSpecification{}
	var results []IndexResult
	for _, want := range wantedIndexes {
		coll := s.users.Database().Collection(want.collection)
		have, ok := existing[want.collection]
		if !ok {
			var err error
			if have, err = listIndexes(ctx, coll); err != nil {
				return results, err
			}
			existing[want.collection] = have
		}
		r := IndexResult{Collection: want.collection, Name: want.name, Why: want.why}
		if spec, ok := have[want.name]; ok {
			r.Outcome, r.Note = compareIndex(want, spec)
			results = append(results, r)
			continue
		}
		r.Outcome, r.Note = IndexCreated, ""
		err := createIndex(ctx, coll, want)
		var ce mongo.CommandError
		switch {
		case err == nil:
			if spec, err := lookupIndex(ctx, coll, want.name); err == nil && want.sparse && (spec.Sparse == nil || !*spec.Sparse) {
				r.Note = "server ignored sparse; it indexes missing fields as distinct, so accounts without this identity do not collide"
			}
		case want.ttl && errors.As(err, &ce) && (ce.Code == codeNotImplemented || ce.Code == codeCommandNotSupported || ce.Code == codeInvalidIndexOption):
			r.Outcome = IndexUnsupported
			r.Note = "this server has no TTL indexes: expired records stay until replaced or deleted; correctness does not depend on it, every query checks expiresAt"
		default:
			return results, fmt.Errorf("store: create index %s.%s: %w", want.collection, want.name, translate(err, nil))
		}
		results = append(results, r)
	}
	return results, nil
}

func createIndex(ctx context.Context, coll *mongo.Collection, want indexSpec) error {
	opts := options.Index().SetName(want.name)
	if want.unique {
		opts.SetUnique(true)
	}
	if want.sparse {
		opts.SetSparse(true)
	}
	if want.ttl {
		opts.SetExpireAfterSeconds(0)
	}
	_, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: want.keys, Options: opts})
	return err
}

func compareIndex(want indexSpec, have mongo.IndexSpecification) (string, string) {
	isUnique := have.Unique != nil && *have.Unique
	hasTTL := have.ExpireAfterSeconds != nil
	switch {
	case want.unique != isUnique:
		return IndexDiffers, fmt.Sprintf("unique is %v, want %v: drop it and run again", isUnique, want.unique)
	case want.ttl && !hasTTL:
		return IndexDiffers, "has no expireAfterSeconds: drop it and run again"
	case want.ttl && *have.ExpireAfterSeconds != 0:
		return IndexDiffers, fmt.Sprintf("expireAfterSeconds is %d, want 0: drop it and run again", *have.ExpireAfterSeconds)
	}
	return IndexExists, ""
}

func listIndexes(ctx context.Context, coll *mongo.Collection) (map[string]mongo.IndexSpecification, error) {
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		var ce mongo.CommandError
		if errors.As(err, &ce) && ce.Code == 26 { // NamespaceNotFound: no collection yet
			return map[string]mongo.IndexSpecification{}, nil
		}
		return nil, translate(err, nil)
	}
	have := make(map[string]mongo.IndexSpecification, len(specs))
	for _, s := range specs {
		have[s.Name] = s
	}
	return have, nil
}

func lookupIndex(ctx context.Context, coll *mongo.Collection, name string) (mongo.IndexSpecification, error) {
	have, err := listIndexes(ctx, coll)
	if err != nil {
		return mongo.IndexSpecification{}, err
	}
	spec, ok := have[name]
	if !ok {
		return spec, fmt.Errorf("store: index %s not found after creation", name)
	}
	return spec, nil
}
