package config

import (
	"strconv"
	"strings"
	"time"

	"github.com/wxauth/scf-auth/pkg/token"
)

// reader parses variables and keeps the first problem, so Load reads like a
// table of variables and defaults.
type reader struct {
	getenv func(string) string
	err    error
}

func (r *reader) fail(name, reason string) {
	if r.err == nil {
		r.err = &Error{Var: name, Reason: reason}
	}
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) duration(name string, def, least time.Duration) time.Duration {
	raw := r.str(name, "")
	if raw == "" {
		return def
	}
	d, err := time.ParseDuration(raw)
	if err != nil {
		r.fail(name, "must be a Go duration such as 90s or 2h")
		return def
	}
	if d < least || d < 0 {
		r.fail(name, "must be at least "+least.String())
		return def
	}
	return d
}

func (r *reader) integer(name string, def, least, most int) int {
	raw := r.str(name, "")
	if raw == "" {
		return def
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < least || n > most {
		r.fail(name, "must be a whole number from "+strconv.Itoa(least)+" to "+strconv.Itoa(most))
		return def
	}
	return n
}

func (r *reader) list(name, def string) []string {
	var out []string
	for _, p := range strings.Split(r.str(name, def), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		r.fail(name, "must list at least one parameter")
	}
	return out
}

func (r *reader) alg(name string) token.Alg {
	a, err := token.ParseAlg(r.str(name, string(token.HS256)))
	if err != nil {
		r.fail(name, err.Error())
		return token.HS256
	}
	return a
}
