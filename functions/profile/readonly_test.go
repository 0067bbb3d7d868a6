package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/functest"
	"github.com/wxauth/scf-auth/pkg/store"
)

// profileOf is what a PATCH could change, as stored.
func profileOf(t *testing.T, env *functest.Env, acct *functest.Account) string {
	t.Helper()
	u := env.User(acct.User.ID)
	return fmt.Sprintf("nickname=%q avatar=%q gender=%d birthday=%q bio=%q phone=%q points=%d updatedAt=%s",
		u.Nickname, u.AvatarURL, u.Gender, u.Birthday, u.Bio, u.Phone, u.Points, u.UpdatedAt.Format(time.RFC3339Nano))
}

// A read-only field is refused naming it even when an editable field
// comes with it, by every way of editing, and nothing changes: not the
// read-only field, not the editable one beside it.
func TestAReadOnlyFieldBesideAnEditableOneChangesNothing(t *testing.T) {
	env := functest.New(t)
	f := profile(env)
	acct := env.SignUp(func(u *store.User) { withPhone(u); u.WeChat = functest.WeChatOf("o-ro", "") })
	env.Clock.Advance(time.Minute)
	before := profileOf(t, env, acct)
	readOnly := map[string]any{
		"id": "665f1c2e9b1e8a3d4c5b6a79", "phone": "13900139000", "countryCode": "1", "points": 100,
		"wechatBound": false, "wechatApps": []string{"wx0ther0app000000"},
		"createdAt": "2020-01-01T00:00:00Z", "updatedAt": "2020-01-01T00:00:00Z",
	}
	caller := map[string]any{"appId": functest.AppID, "openId": "o-ro"}
	for field, value := range readOnly {
		t.Run(field, func(t *testing.T) {
			body := functest.Body("nickname", "新名字", field, value)
			for _, method := range []string{"PATCH", "PUT"} {
				f.Do(method, "/profile", body, acct.AccessToken).Expect(t, 400, "INVALID_REQUEST").Field(t, field)
			}
			for _, auth := range []map[string]any{{"accessToken": acct.AccessToken}, {"userInfo": caller}} {
				event := map[string]any{"action": "update", "nickname": "新名字", field: value}
				for k, v := range auth {
					event[k] = v
				}
				f.Direct(event).Expect(t, 0, "INVALID_REQUEST").Field(t, field)
			}
			if after := profileOf(t, env, acct); after != before {
				t.Fatalf("changed:\n%s\n%s", before, after)
			}
		})
	}
	// The editable field alone goes through.
	f.Do("PATCH", "/profile", `{"nickname":"新名字"}`, acct.AccessToken).Expect(t, 200, "OK")
}
