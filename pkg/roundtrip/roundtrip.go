// Package roundtrip counts database round trips per request. The store's
// command monitor adds one per command sent with a request's context; the
// event adapter logs the count, and tests assert it, so a change that adds a
// round trip is noticed.
package roundtrip

import (
	"context"
	"sync/atomic"
)

type ctxKey struct{}

// Counter counts the commands sent for one request.
type Counter struct{ n atomic.Int64 }

// Load returns the number of round trips counted so far.
func (c *Counter) Load() int { return int(c.n.Load()) }

// NewContext returns ctx with a fresh counter, unless ctx already carries one
// (a test counting a whole invocation), in which case that one is kept.
func NewContext(ctx context.Context) (context.Context, *Counter) {
	if c := FromContext(ctx); c != nil {
		return ctx, c
	}
	c := new(Counter)
	return context.WithValue(ctx, ctxKey{}, c), c
}

// FromContext returns the counter in ctx, or nil.
func FromContext(ctx context.Context) *Counter {
	c, _ := ctx.Value(ctxKey{}).(*Counter)
	return c
}

// Add counts one round trip for the request in ctx, if it is counted.
func Add(ctx context.Context) {
	if c := FromContext(ctx); c != nil {
		c.n.Add(1)
	}
}
