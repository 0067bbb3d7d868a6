package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/wxauth/scf-auth/pkg/store"
)

// seedUsers stores n earlier users the way their send-sms → phone-login
// flows left them: an account with the phone, a session, and the send
// record. It writes directly, many at a time, so that a large database is
// quick to prepare; the phones (137…) never collide with the measured
// flows' (139…).
func seedUsers(ctx context.Context, st *store.Store, n int) error {
	now := time.Now()
	jobs := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := seedUser(ctx, st, fmt.Sprintf("137%08d", i), now); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var err error
	for i := 0; i < n && err == nil; i++ {
		select {
		case jobs <- i:
		case err = <-errs:
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err == nil {
		err = <-errs
	}
	return err
}

func seedUser(ctx context.Context, st *store.Store, phone string, now time.Time) error {
	u := store.NewUser(now)
	u.CountryCode, u.Phone = "86", phone
	if err := st.InsertUser(ctx, u); err != nil {
		return err
	}
	sess := &store.Session{ID: randomHex(11), UserID: u.ID, Method: "sms", TokenHash: []byte(randomHex(16)),
		CreatedAt: now, RotatedAt: now, ExpiresAt: now.Add(720 * time.Hour)}
	if err := st.CreateSession(ctx, sess); err != nil {
		return err
	}
	return st.ClaimSend(ctx, &store.SMSSend{ID: store.SendWindowID(phone, now, time.Minute), Phone: phone,
		Client: "127.0.0.1", At: now, ExpiresAt: now.Add(24 * time.Hour)})
}
