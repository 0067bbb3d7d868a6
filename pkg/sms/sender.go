// Package sms sends login codes. Sender is the one small interface; there
// is one implementation per provider: Tencent Cloud SMS through the
// official SDK, and the console for local development.
package sms

import (
	"context"
	"time"

	"github.com/wxauth/scf-auth/pkg/config"
)

// Message is one login code to send.
type Message struct {
	// Phone is the 11-digit mainland number.
	Phone string
	Code  string
	// TTL is how long the code stays valid, for templates that say so.
	TTL time.Duration
}

// Sender delivers a message, or says why it could not.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// FromConfig returns the sender SMS_PROVIDER names. getenv reads the
// function role's temporary keys at send time.
func FromConfig(c *config.Config, getenv func(string) string) (Sender, error) {
	if c.SMSProvider == config.ProviderConsole {
		return Console{}, nil
	}
	return NewTencent(c, getenv)
}
