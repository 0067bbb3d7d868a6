package account

import (
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wxauth/scf-auth/pkg/adapter"
	"github.com/wxauth/scf-auth/pkg/apierror"
	"github.com/wxauth/scf-auth/pkg/store"
)

// Limits of the editable profile fields (API.md §4).
const (
	MaxNickname   = 20
	MaxAvatarURL  = 512
	MaxBio        = 200
	MinBirthYear  = 1900
	birthdayShape = "2006-01-02"
)

// Editable are the fields PATCH /profile takes.
var Editable = []string{"nickname", "avatarUrl", "gender", "birthday", "bio"}

// readOnly are the User fields a client sees but cannot change.
var readOnly = []string{"id", "phone", "countryCode", "points", "wechatBound", "createdAt", "updatedAt"}

// china is the calendar birthdays are judged in: a birthday of today in
// China is not in the future, whatever the server's zone.
var china = time.FixedZone("CST", 8*3600)

// ParseChanges reads the editable fields of a PATCH body. Unknown and
// read-only fields are INVALID_REQUEST naming the field.
func ParseChanges(f adapter.Fields, now time.Time) (store.ProfileChanges, error) {
	var c store.ProfileChanges
	for _, name := range readOnly {
		if f.Has(name) {
			return c, apierror.BadField(name, "is read-only")
		}
	}
	if err := f.Only(Editable...); err != nil {
		return c, err
	}
	if v, ok, err := f.String("nickname"); err != nil {
		return c, err
	} else if ok {
		n, err := ValidNickname(v)
		if err != nil {
			return c, err
		}
		c.Nickname = &n
	}
	if v, ok, err := f.String("avatarUrl"); err != nil {
		return c, err
	} else if ok {
		if err := ValidAvatarURL(v); err != nil {
			return c, err
		}
		c.AvatarURL = &v
	}
	if v, ok, err := f.Int("gender"); err != nil {
		return c, err
	} else if ok {
		if v < 0 || v > 2 {
			return c, apierror.BadField("gender", "must be 0, 1 or 2")
		}
		c.Gender = &v
	}
	if f.IsNull("birthday") {
		clear := ""
		c.Birthday = &clear
	} else if v, ok, err := f.String("birthday"); err != nil {
		return c, apierror.BadField("birthday", "must be YYYY-MM-DD or null")
	} else if ok {
		if err := validBirthday(v, now); err != nil {
			return c, err
		}
		c.Birthday = &v
	}
	if v, ok, err := f.String("bio"); err != nil {
		return c, err
	} else if ok {
		if utf8.RuneCountInString(v) > MaxBio {
			return c, apierror.BadField("bio", "must be at most 200 characters")
		}
		if err := decodable("bio", v); err != nil {
			return c, err
		}
		if strings.IndexFunc(v, func(r rune) bool { return hidden(r) && r != '\n' }) >= 0 {
			return c, apierror.BadField("bio", "must not contain control or invisible format characters other than newlines")
		}
		c.Bio = &v
	}
	return c, nil
}

// ValidNickname trims a nickname and checks it: 1 to 20 characters, no
// control or invisible format characters, and something visible.
func ValidNickname(v string) (string, error) {
	v = strings.TrimSpace(v)
	if n := utf8.RuneCountInString(v); n < 1 || n > MaxNickname {
		return "", apierror.BadField("nickname", "must be 1 to 20 characters after trimming")
	}
	if err := decodable("nickname", v); err != nil {
		return "", err
	}
	if strings.IndexFunc(v, hidden) >= 0 {
		return "", apierror.BadField("nickname", "must not contain control or invisible format characters")
	}
	if strings.IndexFunc(v, visible) < 0 {
		return "", apierror.BadField("nickname", "must contain a visible character")
	}
	return v, nil
}

// decodable refuses text that was not valid UTF-8 when it was sent:
// undecodable bytes, and \u escapes of lone surrogates, reach a handler
// as U+FFFD (the platform's JSON and ours decode them so), which nobody
// types.
func decodable(field, v string) error {
	if !utf8.ValidString(v) || strings.ContainsRune(v, utf8.RuneError) {
		return apierror.BadField(field, "must be valid UTF-8 text")
	}
	return nil
}

// Joiners are format characters that emoji sequences need (👨‍👩‍👧).
const (
	zeroWidthJoiner    = '\u200d'
	zeroWidthNonJoiner = '\u200c'
)

// hidden reports characters that change how text reads without showing
// themselves: controls, and format characters such as the bidirectional
// overrides that reverse what follows (U+202E), zero-width spaces and
// byte-order marks; the joiners emoji need are allowed.
func hidden(r rune) bool {
	return unicode.IsControl(r) || (unicode.Is(unicode.Cf, r) && r != zeroWidthJoiner && r != zeroWidthNonJoiner)
}

// visible reports characters that show: not spaces, format characters or
// marks that only combine with others.
func visible(r rune) bool {
	return unicode.IsGraphic(r) && !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r) && !unicode.Is(unicode.M, r)
}

// ValidAvatarURL checks an avatar URL: https:// or cloud://, a host, at
// most 512 bytes, no spaces, control or invisible format characters (a
// URL needs none of them, not even the joiners a nickname may hold, and
// they make one URL look like another).
func ValidAvatarURL(v string) error {
	if len(v) > MaxAvatarURL {
		return apierror.BadField("avatarUrl", "must be at most 512 bytes")
	}
	if err := decodable("avatarUrl", v); err != nil {
		return err
	}
	if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "cloud://") {
		return apierror.BadField("avatarUrl", "must start with https:// or cloud://")
	}
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0 {
		return apierror.BadField("avatarUrl", "must not contain spaces, control or invisible format characters")
	}
	if u, err := url.Parse(v); err != nil || u.Host == "" {
		return apierror.BadField("avatarUrl", "must be a URL with a host")
	}
	return nil
}

func validBirthday(v string, now time.Time) error {
	d, err := time.Parse(birthdayShape, v)
	if err != nil || d.Format(birthdayShape) != v {
		return apierror.BadField("birthday", "must be YYYY-MM-DD or null")
	}
	if d.Year() < MinBirthYear {
		return apierror.BadField("birthday", "must be in 1900 or later")
	}
	if v > now.In(china).Format(birthdayShape) {
		return apierror.BadField("birthday", "must not be in the future")
	}
	return nil
}
