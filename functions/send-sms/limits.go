package main

import (
	"sort"
	"time"

	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/store"
)

const day = 24 * time.Hour

// limits are the send rules of API.md §4, over rolling windows.
type limits struct {
	cooldown     time.Duration
	phoneHourly  int
	phoneDaily   int
	clientHourly int
}

// verdict is the judgement of one send against the others it can see.
type verdict int

const (
	allowed verdict = iota
	// contended: the send fits only if some sends recorded alongside it
	// are refused; look again once they have been decided.
	contended
	refused
)

// check judges the send just recorded against the other sends of the last
// day. Sends are ordered by time, then id. A send is refused when enough
// sends before it already fill a window (or one is within the cooldown),
// allowed when all the sends it sees fit, and otherwise contended. Every
// send sees all sends recorded before it, so a send is only allowed when
// no cap can be exceeded, and a burst of simultaneous sends lets exactly
// as many through as fit once the refused ones have been released.
func (l limits) check(rec *store.SMSSend, recent []store.SMSSend, now time.Time) (verdict, error) {
	var phoneBefore, phoneAfter, clientBefore, clientAfter []time.Time
	for _, s := range recent {
		if s.ID == rec.ID {
			continue
		}
		before := s.At.Before(rec.At) || (s.At.Equal(rec.At) && s.ID < rec.ID)
		if s.Phone == rec.Phone {
			if before {
				phoneBefore = append(phoneBefore, s.At)
			} else {
				phoneAfter = append(phoneAfter, s.At)
			}
		}
		if rec.Client != "" && s.Client == rec.Client {
			if before {
				clientBefore = append(clientBefore, s.At)
			} else {
				clientAfter = append(clientAfter, s.At)
			}
		}
	}
	if last := latest(phoneBefore); last.After(now.Add(-l.cooldown)) {
		return refused, apierror.Cooldown(seconds(last.Add(l.cooldown).Sub(now)))
	}
	caps := []struct {
		before, after []time.Time
		limit         int
		window        time.Duration
	}{
		{phoneBefore, phoneAfter, l.phoneHourly, time.Hour},
		{phoneBefore, phoneAfter, l.phoneDaily, day},
		{clientBefore, clientAfter, l.clientHourly, time.Hour},
	}
	var wait time.Duration
	for _, c := range caps {
		wait = max(wait, waitFor(c.before, c.limit, c.window, now))
	}
	if wait > 0 {
		return refused, apierror.LimitExceeded(seconds(wait))
	}
	v := allowed
	if latest(phoneAfter).After(now.Add(-l.cooldown)) {
		v = contended
	}
	for _, c := range caps {
		if waitFor(append(c.before, c.after...), c.limit, c.window, now) > 0 {
			v = contended
		}
	}
	return v, nil
}

// contendedError is the answer when a send stayed contended: refusing is
// the safe side, and the user may try again in a moment.
func (l limits) contendedError() error { return apierror.LimitExceeded(1) }

func latest(times []time.Time) time.Time {
	var last time.Time
	for _, t := range times {
		if t.After(last) {
			last = t
		}
	}
	return last
}

// waitFor returns how long until one more send fits under limit sends per
// window, given the times of the other sends; zero when it fits now.
func waitFor(times []time.Time, limit int, window time.Duration, now time.Time) time.Duration {
	var inWindow []time.Time
	for _, t := range times {
		if t.After(now.Add(-window)) {
			inWindow = append(inWindow, t)
		}
	}
	if len(inWindow) < limit {
		return 0
	}
	sort.Slice(inWindow, func(i, j int) bool { return inWindow[i].Before(inWindow[j]) })
	// The oldest len-limit+1 sends must leave the window.
	return inWindow[len(inWindow)-limit].Add(window).Sub(now)
}
