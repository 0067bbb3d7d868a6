package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wxauth/scf-auth/pkg/account"
	"github.com/wxauth/scf-auth/pkg/app"
	"github.com/wxauth/scf-auth/pkg/config"
	"github.com/wxauth/scf-auth/pkg/smscode"
	"github.com/wxauth/scf-auth/pkg/store"
	"github.com/wxauth/scf-auth/pkg/token"
)

// seedUsers stores n earlier users the way their send-sms → phone-login
// flows left them: the phone's claim, an account with a session, the
// phone's SMS state, and the client's and the deployment's counts. It
// writes directly, many at a time, so that a large database is quick to
// prepare; the phones (137…) never collide with the measured flows' (139…).
func seedUsers(ctx context.Context, st *store.Store, env []string, n int) error {
	cfg, err := config.Load(func(k string) string {
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		return ""
	})
	if err != nil {
		return err
	}
	keys := app.SMSKeys(cfg)
	now := time.Now()
	jobs := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := seedUser(ctx, st, keys, fmt.Sprintf("137%08d", i), now); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
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

func seedUser(ctx context.Context, st *store.Store, keys smscode.Keys, phone string, now time.Time) error {
	u := store.NewUser(now)
	u.CountryCode, u.Phone, u.Nickname = "86", phone, account.GeneratedNickname()
	secret := token.NewSecret()
	u.Sessions = map[string]store.Session{token.NewSessionID(): {
		TokenHash: token.HashSecret(secret), Method: "sms", CreatedAt: now, RotatedAt: now, ExpiresAt: now.Add(720 * time.Hour),
	}}
	lease := store.NewLease()
	u.PhoneLease = lease
	if err := st.Claim(ctx, store.PhoneIdentity("86", phone), u.ID, lease, now); err != nil {
		return err
	}
	if err := st.CreateUser(ctx, u); err != nil {
		return err
	}
	key := keys.Phone(phone)
	if _, err := st.RecordPhoneSend(ctx, key, store.Send{ID: strconv.FormatInt(now.UnixNano(), 36), At: now}, now.Add(24*time.Hour)); err != nil {
		return err
	}
	if err := st.RecordPhoneOwner(ctx, key, u.ID, now); err != nil {
		return err
	}
	minute := strconv.FormatInt(now.Unix()/60, 10)
	for _, counter := range []string{keys.Client("ip:127.0.0.1"), smscode.Global} {
		if _, err := st.CountSend(ctx, counter, minute, now.Add(time.Hour+time.Minute)); err != nil {
			return err
		}
	}
	return nil
}
