// Package captchatest is a local stand-in for the Tencent Cloud Captcha API
// (DescribeCaptchaMiniResult, version 2019-07-22). It verifies every
// request's TC3-HMAC-SHA256 signature, independently of the SDK, and the
// application's CaptchaAppId and AppSecretKey, so that the real client code
// runs against it. Tickets it minted are good once; with DevTickets, any
// ticket starting with "dev-ok" is good too, for the local gateway. It can
// be told to fail, as an outage.
package captchatest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/wxauth/scf-auth/pkg/tencentcloud/tc3test"
)

// Server is the fake API. Call NewServer.
type Server struct {
	*httptest.Server
	Keys      tc3test.Keys
	AppID     uint64
	AppSecret string
	// DevTickets makes every ticket starting with "dev-ok" good.
	DevTickets bool

	mu      sync.Mutex
	tickets map[string]bool // minted ticket → used
	checks  []Check
	down    bool
	bad     int
}

// Check is one ticket check the fake answered.
type Check struct {
	Ticket, UserIP string
	Code           int64
}

// NewServer starts a fake for the application appID/appSecret, accepting
// requests signed with secretID/secretKey.
func NewServer(secretID, secretKey string, appID uint64, appSecret string) *Server {
	s := &Server{Keys: tc3test.Keys{SecretID: secretID, SecretKey: secretKey}, AppID: appID, AppSecret: appSecret, tickets: map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// NewTicket mints a good ticket, as the mini-program captcha plugin gets
// one when the user passes the captcha.
func (s *Server) NewTicket() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	t := "t03" + hex.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickets[t] = false
	return t
}

// SetDown makes the service fail (true) or answer again (false).
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Checks returns the ticket checks answered so far.
func (s *Server) Checks() []Check {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Check(nil), s.checks...)
}

// BadSignatures counts requests refused for their signature.
func (s *Server) BadSignatures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bad
}

type request struct {
	CaptchaType  uint64
	Ticket       string
	UserIp       string
	CaptchaAppId uint64
	AppSecretKey string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	defer s.mu.Unlock()
	reqID := fmt.Sprintf("captcha-fake-%d", len(s.checks)+s.bad)
	if s.down {
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	if err := s.Keys.Verify(r, body, "captcha"); err != nil {
		s.bad++
		writeJSON(w, map[string]any{"Response": map[string]any{
			"Error": map[string]string{"Code": "AuthFailure.SignatureFailure", "Message": err.Error()}, "RequestId": reqID,
		}})
		return
	}
	if r.Header.Get("X-TC-Action") != "DescribeCaptchaMiniResult" || r.Header.Get("X-TC-Version") != "2019-07-22" {
		writeJSON(w, map[string]any{"Response": map[string]any{
			"Error": map[string]string{"Code": "InvalidAction", "Message": "only DescribeCaptchaMiniResult 2019-07-22 is faked"}, "RequestId": reqID,
		}})
		return
	}
	var req request
	_ = json.Unmarshal(body, &req)
	code, msg := s.judge(req)
	s.checks = append(s.checks, Check{Ticket: req.Ticket, UserIP: req.UserIp, Code: code})
	writeJSON(w, map[string]any{"Response": map[string]any{"CaptchaCode": code, "CaptchaMsg": msg, "RequestId": reqID}})
}

// judge answers as the real service documents its CaptchaCode.
func (s *Server) judge(req request) (int64, string) {
	switch {
	case req.CaptchaType != 9 || req.Ticket == "" || req.UserIp == "":
		return 100, "param err"
	case req.CaptchaAppId != s.AppID:
		return 7, "CaptchaAppId does not match"
	case req.AppSecretKey != s.AppSecret:
		return 100, "AppSecretKey does not match"
	case s.DevTickets && strings.HasPrefix(req.Ticket, "dev-ok"):
		return 1, "OK"
	}
	used, minted := s.tickets[req.Ticket]
	switch {
	case !minted:
		return 15, "ticket decryption failed"
	case used:
		return 8, "ticket expired"
	}
	s.tickets[req.Ticket] = true
	return 1, "OK"
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
