package main

import (
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/wxauth/scf-auth/pkg/adapter"
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
	// directHourly caps direct invocations with no trusted caller, which
	// share one counter (SMS_DIRECT_HOURLY_LIMIT).
	directHourly int
	// globalHourly is 0 when the deployment has no cap.
	globalHourly int
}

// clientLimit is the hourly cap of the request's client: the team's own
// servers (direct invocations with no caller the platform vouches for)
// share one counter with a cap of its own, every other client has
// SMS_IP_HOURLY_LIMIT.
func (l limits) clientLimit(req *adapter.Request) int {
	if req.ClientKey() == adapter.UntrustedDirectKey {
		return l.directHourly
	}
	return l.clientHourly
}

// phoneSends are the sends of one phone recorded before this one, which
// the store returns in the order they were recorded.
type phoneSends []time.Time

// before returns the times of the sends recorded before mine.
func before(sends []store.Send, mine store.Send) phoneSends {
	var times phoneSends
	for _, s := range sends {
		if s.ID == mine.ID {
			break
		}
		times = append(times, s.At)
	}
	return times
}

// judgePhone applies the cooldown and the per-phone caps to a send, given
// the phone's sends recorded before it. Every send sees all sends recorded
// before it, so however many arrive at once, no cap is ever exceeded.
func (l limits) judgePhone(earlier phoneSends, now time.Time) error {
	if last := latest(earlier); last.After(now.Add(-l.cooldown)) {
		return apierror.Cooldown(seconds(last.Add(l.cooldown).Sub(now)))
	}
	wait := max(waitFor(earlier, l.phoneHourly, time.Hour, now), waitFor(earlier, l.phoneDaily, day, now))
	if wait > 0 {
		return apierror.LimitExceeded(seconds(wait))
	}
	return nil
}

// sentWithin reports whether the phone had a send in the last d.
func (p phoneSends) sentWithin(d time.Duration, now time.Time) bool {
	return latest(p).After(now.Add(-d))
}

// stale lists the sends no window counts any more, to be dropped.
func stale(sends []store.Send, now time.Time) []store.Send {
	var old []store.Send
	for _, s := range sends {
		if !s.At.After(now.Add(-day)) {
			old = append(old, s)
		}
	}
	return old
}

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

// Counters (per client, global) count sends by the minute. A window of an
// hour counts every minute that overlaps it, so it never lets through more
// than its cap, and errs by at most a minute the other way.

// minuteOf is the counter key of t's minute.
func minuteOf(t time.Time) string { return strconv.FormatInt(t.Unix()/60, 10) }

// counted is a counter as one send saw it, including itself.
type counted struct {
	minutes map[int64]int
	// first is the first minute the hour before now overlaps.
	first int64
}

func newCounted(c *store.SendCounter, now time.Time) counted {
	out := counted{minutes: map[int64]int{}, first: now.Add(-time.Hour).Unix() / 60}
	for k, n := range c.Minutes {
		if m, err := strconv.ParseInt(k, 10, 64); err == nil {
			out.minutes[m] = n
		}
	}
	return out
}

// earlier is how many sends the window held before this one.
func (c counted) earlier() int {
	total := 0
	for m, n := range c.minutes {
		if m >= c.first {
			total += n
		}
	}
	return total - 1
}

// judge refuses the send if limit sends came before it in the window, with
// the time until enough minutes leave it.
func (c counted) judge(limit int, now time.Time) error {
	earlier := c.earlier()
	if earlier < limit {
		return nil
	}
	var ms []int64
	for m := range c.minutes {
		if m >= c.first {
			ms = append(ms, m)
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i] < ms[j] })
	need, shed := earlier-limit+1, 0
	for _, m := range ms {
		if shed += c.minutes[m]; shed >= need {
			leaves := time.Unix((m+1)*60, 0).Add(time.Hour)
			return apierror.LimitExceeded(seconds(leaves.Sub(now)))
		}
	}
	return apierror.LimitExceeded(seconds(time.Hour))
}

// staleMinutes lists minutes no window counts any more, once there are
// enough of them to be worth a write.
func (c counted) staleMinutes() []string {
	var old []string
	for m := range c.minutes {
		if m < c.first {
			old = append(old, strconv.FormatInt(m, 10))
		}
	}
	if len(old) < 60 {
		return nil
	}
	return old
}

// seconds rounds a wait up to whole seconds, at least one.
func seconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
