package main

import (
	"strings"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/functest"
)

// The edges of the editable fields (API.md §4), as a user meets them.
func TestProfileFieldEdges(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(withPhone)
	twenty := strings.Repeat("字", 20)
	tests := []struct {
		name, body string
		// field is the field refused; "" when the body is accepted.
		field string
		// nickname is what is stored when accepted, if the body sets one.
		nickname string
	}{
		{"avatar of 181 characters but 513 bytes", `{"avatarUrl":"https://a.com/` + strings.Repeat("图", 166) + `a"}`, "avatarUrl", ""},
		{"avatar of exactly 512 bytes, most of them Chinese", `{"avatarUrl":"https://a.com/` + strings.Repeat("图", 166) + `"}`, "", ""},
		{"nickname with a newline", `{"nickname":"第一行\n第二行"}`, "nickname", ""},
		{"nickname with a carriage return", `{"nickname":"a\rb"}`, "nickname", ""},
		{"nickname with a tab", `{"nickname":"a\tb"}`, "nickname", ""},
		{"nickname of 20 characters inside spaces", `{"nickname":"  ` + twenty + `  "}`, "", twenty},
		{"nickname of 20 characters inside newlines", `{"nickname":"\n` + twenty + `\n"}`, "", twenty},
		{"nickname of 21 characters inside spaces", `{"nickname":" ` + twenty + `字 "}`, "nickname", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := f.Do("PATCH", "/profile", tt.body, acct.AccessToken)
			if tt.field != "" {
				a.Expect(t, 400, "INVALID_REQUEST").Field(t, tt.field)
				return
			}
			a.Expect(t, 200, "OK")
			if tt.nickname != "" && env.User(acct.User.ID).Nickname != tt.nickname {
				t.Fatalf("stored nickname %q, want %q", env.User(acct.User.ID).Nickname, tt.nickname)
			}
		})
	}
}

// A birthday is judged by China's calendar: in the first hours of a day
// in China, when it is still yesterday in UTC, today's date is not in the
// future, and tomorrow's is.
func TestABirthdayIsJudgedByChinasCalendar(t *testing.T) {
	env := functest.New(t)
	// The next 01:30 in China (17:30 UTC the day before).
	now := env.Clock.Now().UTC()
	next := now.Truncate(24 * time.Hour).Add(17*time.Hour + 30*time.Minute)
	if !next.After(now) {
		next = next.Add(24 * time.Hour)
	}
	env.Clock.Set(next)
	f := profile(env)
	acct := env.SignUp(withPhone)
	china := next.In(time.FixedZone("CST", 8*3600))
	today, tomorrow := china.Format("2006-01-02"), china.AddDate(0, 0, 1).Format("2006-01-02")
	f.Do("PATCH", "/profile", `{"birthday":"`+tomorrow+`"}`, acct.AccessToken).Expect(t, 400, "INVALID_REQUEST").Field(t, "birthday")
	f.Do("PATCH", "/profile", `{"birthday":"`+today+`"}`, acct.AccessToken).Expect(t, 200, "OK")
	if got := env.User(acct.User.ID).Birthday; got != today {
		t.Fatalf("stored birthday %q, want %q", got, today)
	}
}
