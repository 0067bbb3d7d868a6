// Package smstest is a local stand-in for the Tencent Cloud SMS API
// (SendSms, version 2021-01-11). It verifies every request's
// TC3-HMAC-SHA256 signature, independently of the SDK, so that tests run the
// real client code; it records what was sent and can be told to fail.
package smstest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/wxauth/scf-auth/pkg/tencentcloud/tc3test"
)

// Message is one SMS the fake accepted.
type Message struct {
	Phone      string // as sent, e.g. +8613800138000
	AppID      string
	SignName   string
	TemplateID string
	Params     []string
}

// Server is the fake API. Its zero value is not usable; call NewServer.
type Server struct {
	*httptest.Server
	SecretID, SecretKey string
	// Token, when set, is the session token temporary keys must carry.
	Token string

	mu        sync.Mutex
	messages  []Message
	failures  []string // queued per-request outcomes: "" sends, anything else is an error code
	bad       int      // requests refused for their signature
	MaxSkew   time.Duration
	requestID int
	// delay is how long the fake takes to answer each request.
	delay time.Duration
}

// SetDelay makes the fake take d to answer each request, as a slow or
// stalled provider does.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// NewServer starts a fake accepting signatures made with secretID/secretKey.
func NewServer(secretID, secretKey string) *Server {
	s := &Server{SecretID: secretID, SecretKey: secretKey, MaxSkew: 5 * time.Minute}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Messages returns what was sent so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// LastCodeFor returns the first template parameter of the last message to
// phone (national number), or "".
func (s *Server) LastCodeFor(phone string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.messages) - 1; i >= 0; i-- {
		if s.messages[i].Phone == "+86"+phone && len(s.messages[i].Params) > 0 {
			return s.messages[i].Params[0]
		}
	}
	return ""
}

// BadSignatures counts requests refused for their signature.
func (s *Server) BadSignatures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bad
}

// FailNext makes the next request fail with code: a request-level error
// such as "InternalError", or, prefixed with "status:", a per-number
// SendStatus code such as "status:LimitExceeded.PhoneNumberDailyLimit".
func (s *Server) FailNext(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, code)
}

type sendSmsRequest struct {
	PhoneNumberSet   []string
	SmsSdkAppId      string
	SignName         string
	TemplateId       string
	TemplateParamSet []string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	delay := s.delay
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requestID++
	reqID := fmt.Sprintf("fake-%d", s.requestID)

	if err := s.verify(r, body); err != nil {
		s.bad++
		writeError(w, reqID, "AuthFailure.SignatureFailure", err.Error())
		return
	}
	if r.Header.Get("X-TC-Action") != "SendSms" || r.Header.Get("X-TC-Version") != "2021-01-11" {
		writeError(w, reqID, "InvalidAction", "only SendSms 2021-01-11 is faked")
		return
	}
	var req sendSmsRequest
	if err := json.Unmarshal(body, &req); err != nil || len(req.PhoneNumberSet) == 0 {
		writeError(w, reqID, "InvalidParameter", "bad SendSms body")
		return
	}
	outcome := ""
	if len(s.failures) > 0 {
		outcome, s.failures = s.failures[0], s.failures[1:]
	}
	if outcome != "" && !strings.HasPrefix(outcome, "status:") {
		writeError(w, reqID, outcome, "failure requested by the test")
		return
	}
	type status struct {
		SerialNo, PhoneNumber, SessionContext, Code, Message, IsoCode string
		Fee                                                           int
	}
	var set []status
	for _, p := range req.PhoneNumberSet {
		st := status{SerialNo: reqID + "-" + p, PhoneNumber: p, Fee: 1, Code: "Ok", Message: "send success", IsoCode: "CN"}
		if outcome != "" {
			st.Code, st.Message, st.Fee = strings.TrimPrefix(outcome, "status:"), "failure requested by the test", 0
		} else {
			s.messages = append(s.messages, Message{Phone: p, AppID: req.SmsSdkAppId, SignName: req.SignName, TemplateID: req.TemplateId, Params: req.TemplateParamSet})
		}
		set = append(set, st)
	}
	writeJSON(w, map[string]any{"Response": map[string]any{"SendStatusSet": set, "RequestId": reqID}})
}

// verify checks the request's TC3-HMAC-SHA256 signature.
func (s *Server) verify(r *http.Request, body []byte) error {
	return tc3test.Keys{SecretID: s.SecretID, SecretKey: s.SecretKey, Token: s.Token, MaxSkew: s.MaxSkew}.Verify(r, body, "sms")
}

func writeError(w http.ResponseWriter, reqID, code, message string) {
	writeJSON(w, map[string]any{"Response": map[string]any{
		"Error": map[string]string{"Code": code, "Message": message}, "RequestId": reqID,
	}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
