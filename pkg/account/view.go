package account

import (
	"time"

	"github.com/wxauth/scf-auth/pkg/store"
)

// User is the caller's own account as clients see it (API.md §3). It never
// holds openid, unionid, session_key or any secret: it is built field by
// field from the stored user, never by copying it.
type User struct {
	ID          string   `json:"id"`
	Phone       *string  `json:"phone"`
	CountryCode *string  `json:"countryCode"`
	Nickname    string   `json:"nickname"`
	AvatarURL   string   `json:"avatarUrl"`
	Gender      int      `json:"gender"`
	Birthday    *string  `json:"birthday"`
	Bio         string   `json:"bio"`
	Points      int64    `json:"points"`
	WeChatBound bool     `json:"wechatBound"`
	WeChatApps  []string `json:"wechatApps"`
	CreatedAt   string   `json:"createdAt"`
	UpdatedAt   string   `json:"updatedAt"`
}

// View renders a stored user for its owner.
func View(u *store.User) User {
	v := User{
		ID:          u.ID.Hex(),
		Nickname:    u.Nickname,
		AvatarURL:   u.AvatarURL,
		Gender:      u.Gender,
		Bio:         u.Bio,
		Points:      u.Points,
		WeChatBound: u.HasWeChat(),
		WeChatApps:  u.WeChatApps(),
		CreatedAt:   u.CreatedAt.UTC().Format(time.RFC3339),
		UpdatedAt:   u.UpdatedAt.UTC().Format(time.RFC3339),
	}
	if v.WeChatApps == nil {
		v.WeChatApps = []string{}
	}
	if u.HasPhone() {
		phone, cc := u.Phone, u.CountryCode
		v.Phone, v.CountryCode = &phone, &cc
	}
	if u.Birthday != "" {
		b := u.Birthday
		v.Birthday = &b
	}
	return v
}
