package checker

import (
	"fmt"
	"sync"

	"github.com/wxauth/scf-auth/pkg/wechatsim"
)

// person is one of the pool: two phone numbers, a WeChat user (some with a
// unionid, which joins the brand's apps; the others' apps stay apart), and
// a number of their own that only guess bursts use, so that no other send
// changes its code in the middle of one.
type person struct {
	index      int
	name       string
	phones     [2]string
	wechat     wechatsim.Identity // as the first mini-program sees them
	guessPhone string
	// guessing serialises the guess bursts at guessPhone.
	guessing sync.Mutex
}

// in is the person as app sees them: that app's openid, the unionid.
func (p *person) in(app string) wechatsim.Identity {
	id := p.wechat
	if app != appID {
		id.OpenID += "-" + app
	}
	return id
}

func newPeople(n int) []*person {
	people := make([]*person, n)
	for i := range people {
		p := &person{index: i, name: fmt.Sprintf("p%d", i)}
		p.phones = [2]string{fmt.Sprintf("139%08d", i*10+1), fmt.Sprintf("139%08d", i*10+2)}
		p.guessPhone = fmt.Sprintf("137%08d", i)
		p.wechat = wechatsim.Identity{OpenID: "o-" + p.name}
		if i%2 == 0 {
			p.wechat.UnionID = "u-" + p.name
		}
		people[i] = p
	}
	return people
}

// session is a session a client holds: its tokens, and the account the
// login answered.
type session struct {
	access, refresh, userID string
}

// book is what the clients know: the sessions each person got, and the
// successor each spent refresh token rotated to.
type book struct {
	mu        sync.Mutex
	sessions  map[int][]*session
	rotations map[string]string
}

// maxKept bounds the sessions kept per person (the oldest are forgotten).
const maxKept = 6

func newBook() *book {
	return &book{sessions: map[int][]*session{}, rotations: map[string]string{}}
}

func (b *book) add(p *person, s *session) {
	b.mu.Lock()
	defer b.mu.Unlock()
	list := append(b.sessions[p.index], s)
	if len(list) > maxKept {
		list = list[len(list)-maxKept:]
	}
	b.sessions[p.index] = list
}

// pick returns one of the person's sessions, nil when there is none;
// choose picks an index below n.
func (b *book) pick(p *person, choose func(n int) int) *session {
	b.mu.Lock()
	defer b.mu.Unlock()
	list := b.sessions[p.index]
	if len(list) == 0 {
		return nil
	}
	s := *list[choose(len(list))]
	return &s
}

// rotated records that refresh token old rotated to new (the session of
// access, refresh now), and reports the successor recorded before when it
// differs: a token rotated twice.
func (b *book) rotated(p *person, old, access, refresh string) (earlier string, twice bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if prev, ok := b.rotations[old]; ok && prev != refresh {
		return prev, true
	}
	b.rotations[old] = refresh
	for _, s := range b.sessions[p.index] {
		if s.refresh == old {
			s.access, s.refresh = access, refresh
		}
	}
	return "", false
}
