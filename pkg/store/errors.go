package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

// Errors the store answers. Driver errors never leave the package.
var (
	ErrUserNotFound    = errors.New("store: user not found")
	ErrNotClaimed      = errors.New("store: identity not claimed")
	ErrCodeNotFound    = errors.New("store: no SMS code")
	ErrSessionNotFound = errors.New("store: session not found")
	ErrTokenNotFound   = errors.New("store: WeChat token not cached")
	// ErrDuplicate means a unique _id or identity is already taken.
	ErrDuplicate = errors.New("store: already exists")
	// ErrConflict means a conditional change found the record changed.
	ErrConflict = errors.New("store: record changed meanwhile")
)

// UnavailableError means the database could not be reached in time. It
// answers Unavailable() true, which the adapter turns into
// SERVICE_UNAVAILABLE.
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string { return "store: database unavailable: " + e.Err.Error() }

// Unwrap exposes the driver error to errors.Is.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Unavailable marks the error as an outage rather than a bug.
func (e *UnavailableError) Unavailable() bool { return true }

// translate maps a driver error to the store's errors; notFound is what a
// missing document means to the caller.
func translate(err, notFound error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return notFound
	case isDuplicate(err):
		return ErrDuplicate
	case isUnavailable(err):
		return &UnavailableError{Err: err}
	}
	return fmt.Errorf("store: %w", err)
}

// isDuplicate recognises a unique-key violation by MongoDB's error codes.
func isDuplicate(err error) bool { return mongo.IsDuplicateKeyError(err) }

// transientCodes are the server errors of a failover or a shutdown in
// progress (not primary, stepping down, interrupted, unreachable): the
// request may succeed in a moment.
var transientCodes = []int{6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436}

// isUnavailable recognises the database being out of reach for now: a
// timeout, a dropped connection, no server to select, a pool cleared
// after another operation's connection dropped, a failover in progress
// (by its error code, or the server's label that it is worth retrying).
func isUnavailable(err error) bool {
	var sel topology.ServerSelectionError
	var pool driver.RetryablePoolError
	var server mongo.ServerError
	if errors.As(err, &server) {
		for _, code := range transientCodes {
			if server.HasErrorCode(code) {
				return true
			}
		}
		if server.HasErrorLabel("RetryableWriteError") || server.HasErrorLabel("RetryableReadError") {
			return true
		}
	}
	return mongo.IsTimeout(err) || mongo.IsNetworkError(err) || errors.As(err, &sel) ||
		(errors.As(err, &pool) && pool.Retryable()) ||
		errors.Is(err, context.Canceled) || errors.Is(err, mongo.ErrClientDisconnected)
}
