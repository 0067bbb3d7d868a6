package sms_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wxauth/scf-auth/pkg/config"
	"github.com/wxauth/scf-auth/pkg/sms"
	"github.com/wxauth/scf-auth/pkg/sms/smstest"
)

func newTencent(t *testing.T, fake *smstest.Server, env map[string]string) *sms.Tencent {
	t.Helper()
	base := map[string]string{
		"MONGODB_URI": "mongodb://127.0.0.1/", "JWT_SECRET": strings.Repeat("k", 32),
		"SMS_ENDPOINT": fake.URL, "SMS_SDK_APP_ID": "1400000000", "SMS_SIGN_NAME": "小程序", "SMS_TEMPLATE_ID": "100",
		"SMS_TEMPLATE_PARAMS": "code,minutes",
	}
	for k, v := range env {
		base[k] = v
	}
	c, err := config.Load(func(k string) string { return base[k] })
	if err != nil {
		t.Fatal(err)
	}
	// The role's keys are read live from env, as the platform refreshes them.
	s, err := sms.NewTencent(c, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTencentSendsSignedRequest(t *testing.T) {
	fake := smstest.NewServer("AKIDtest", "secret-key")
	defer fake.Close()
	s := newTencent(t, fake, map[string]string{"TENCENTCLOUD_SECRET_ID": "AKIDtest", "TENCENTCLOUD_SECRET_KEY": "secret-key"})
	if err := s.Send(context.Background(), sms.Message{Phone: "13800138000", Code: "123456", TTL: 5 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if m.Phone != "+8613800138000" || m.AppID != "1400000000" || m.SignName != "小程序" || m.TemplateID != "100" ||
		len(m.Params) != 2 || m.Params[0] != "123456" || m.Params[1] != "5" {
		t.Fatalf("sent %+v", m)
	}
}

func TestTencentUsesRoleKeysAtSendTime(t *testing.T) {
	fake := smstest.NewServer("AKIDrole", "role-key")
	fake.Token = "session-token"
	defer fake.Close()
	env := map[string]string{"TENCENTCLOUD_SECRETID": "AKIDrole", "TENCENTCLOUD_SECRETKEY": "role-key", "TENCENTCLOUD_SESSIONTOKEN": "session-token"}
	s := newTencent(t, fake, env)
	if err := s.Send(context.Background(), sms.Message{Phone: "13800138000", Code: "1"}); err != nil {
		t.Fatal(err)
	}
	// The platform rotates the role's keys; the next send must use the new ones.
	fake.SecretID, fake.SecretKey, fake.Token = "AKIDrole2", "role-key-2", "token-2"
	env["TENCENTCLOUD_SECRETID"], env["TENCENTCLOUD_SECRETKEY"], env["TENCENTCLOUD_SESSIONTOKEN"] = "AKIDrole2", "role-key-2", "token-2"
	if err := s.Send(context.Background(), sms.Message{Phone: "13800138000", Code: "2"}); err != nil {
		t.Fatalf("rotated role keys not used: %v", err)
	}
}

func TestTencentFailures(t *testing.T) {
	tests := []struct {
		name    string
		secret  string
		fail    string
		env     map[string]string
		wantErr string
		outcome sms.Outcome
	}{
		{"wrong key fails the signature", "wrong", "", nil, "AuthFailure.SignatureFailure", sms.Misconfigured},
		{"request error", "secret-key", "InternalError", nil, "InternalError", sms.Refused},
		{"provider timeout", "secret-key", "InternalError.Timeout", nil, "InternalError.Timeout", sms.Unknown},
		{"number refused though request succeeded", "secret-key", "status:FailedOperation.PhoneNumberInBlacklist", nil, "PhoneNumberInBlacklist", sms.Refused},
		{"provider frequency limit", "secret-key", "status:LimitExceeded.PhoneNumberDailyLimit", nil, "LimitExceeded.PhoneNumberDailyLimit", sms.Throttled},
		{"unapproved template", "secret-key", "FailedOperation.TemplateIncorrectOrUnapproved", nil, "SMS_TEMPLATE_ID", sms.Misconfigured},
		{"no credentials", "", "", map[string]string{}, "TENCENTCLOUD_SECRET_ID", sms.Misconfigured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := smstest.NewServer("AKIDtest", "secret-key")
			defer fake.Close()
			env := map[string]string{"TENCENTCLOUD_SECRET_ID": "AKIDtest", "TENCENTCLOUD_SECRET_KEY": tt.secret}
			if tt.env != nil {
				env = tt.env
			}
			if tt.fail != "" {
				fake.FailNext(tt.fail)
			}
			err := newTencent(t, fake, env).Send(context.Background(), sms.Message{Phone: "13800138000", Code: "123456"})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if got := sms.AsSendError(err).Outcome; got != tt.outcome {
				t.Errorf("outcome %v, want %v", got, tt.outcome)
			}
			if strings.Contains(err.Error(), "13800138000") {
				t.Errorf("error names the phone number: %v", err)
			}
			if len(fake.Messages()) != 0 {
				t.Errorf("message recorded despite failure")
			}
		})
	}
}
