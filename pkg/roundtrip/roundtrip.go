// Package roundtrip counts database round trips per request. The store's
// command monitor adds one per command sent with a request's context; the
// event adapter logs the count, and tests assert it, so a change that adds a
// round trip is noticed. A recording counter also keeps each command, so
// that tests can check what the functions send.
package roundtrip

import (
	"context"
	"sync"
	"sync/atomic"
)

type ctxKey struct{}

// Counter counts the commands sent for one request.
type Counter struct {
	n atomic.Int64

	record   bool
	mu       sync.Mutex
	commands []Command
}

// Command is one command sent: its name and its body as BSON.
type Command struct {
	Name string
	Body []byte
}

// Load returns the number of round trips counted so far.
func (c *Counter) Load() int { return int(c.n.Load()) }

// Commands returns the commands recorded so far (none unless the counter
// came from NewRecordingContext).
func (c *Counter) Commands() []Command {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Command(nil), c.commands...)
}

// NewContext returns ctx with a fresh counter, unless ctx already carries one
// (a test counting a whole invocation), in which case that one is kept.
func NewContext(ctx context.Context) (context.Context, *Counter) {
	if c := FromContext(ctx); c != nil {
		return ctx, c
	}
	c := new(Counter)
	return context.WithValue(ctx, ctxKey{}, c), c
}

// NewRecordingContext returns ctx with a fresh counter that also keeps
// every command.
func NewRecordingContext(ctx context.Context) (context.Context, *Counter) {
	c := &Counter{record: true}
	return context.WithValue(ctx, ctxKey{}, c), c
}

// FromContext returns the counter in ctx, or nil.
func FromContext(ctx context.Context) *Counter {
	c, _ := ctx.Value(ctxKey{}).(*Counter)
	return c
}

// Add counts one command for the request in ctx, if it is counted, and
// keeps a copy of it if the counter records.
func Add(ctx context.Context, name string, body []byte) {
	c := FromContext(ctx)
	if c == nil {
		return
	}
	c.n.Add(1)
	if c.record {
		c.mu.Lock()
		c.commands = append(c.commands, Command{Name: name, Body: append([]byte(nil), body...)})
		c.mu.Unlock()
	}
}
