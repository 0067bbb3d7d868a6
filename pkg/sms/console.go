package sms

import (
	"context"

	"github.com/wxauth/scf-auth/pkg/logging"
	"github.com/wxauth/scf-auth/pkg/phone"
)

// Console writes codes to the log instead of sending them. It is for local
// development only: anyone who can read the logs can log in.
type Console struct{}

// Send logs the code with the phone number masked.
func (Console) Send(ctx context.Context, m Message) error {
	logging.FromContext(ctx).Warn("SMS code (console provider, local development only)",
		"phone", phone.Mask(m.Phone), "code", m.Code)
	return nil
}
