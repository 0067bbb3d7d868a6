package store

import (
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// The identity rules (package account) rest on reading what was last
// written and on writes that survive a failover: a claim read from a
// secondary may be stale, and a claim acknowledged by one member only may
// vanish when another becomes primary, leaving two accounts with one
// identity. So the store reads from the primary and writes with majority
// acknowledgement, whatever the connection string says, and refuses a
// connection string that asks for less rather than silently overriding a
// choice its author made on purpose.

// WeakURIError names the connection-string option that would weaken the
// reads or writes the identity rules rely on.
type WeakURIError struct {
	Option, Value, Need string
}

func (e *WeakURIError) Error() string {
	return fmt.Sprintf("sets %s=%s; the identity rules need %s: remove the option", e.Option, e.Value, e.Need)
}

// enforceConsistency checks what the URI set and pins primary reads and
// majority writes.
func enforceConsistency(opts *options.ClientOptions) error {
	if rp := opts.ReadPreference; rp != nil && rp.Mode() != readpref.PrimaryMode {
		return &WeakURIError{Option: "readPreference", Value: rp.Mode().String(), Need: "reads from the primary"}
	}
	if wc := opts.WriteConcern; wc != nil {
		if wc.W != nil && wc.W != writeconcern.WCMajority {
			return &WeakURIError{Option: "w", Value: fmt.Sprint(wc.W), Need: "writes acknowledged by a majority (w=majority)"}
		}
		if wc.Journal != nil && !*wc.Journal {
			return &WeakURIError{Option: "journal", Value: "false", Need: "journaled majority writes"}
		}
	}
	opts.SetReadPreference(readpref.Primary())
	opts.SetWriteConcern(writeconcern.Majority())
	return nil
}
