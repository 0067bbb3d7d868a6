package adapter_test

import (
	"bytes"
	"testing"

	"github.com/wxauth/scf-auth/pkg/adapter"
)

// TestClientAddressesAreParsed checks API.md §1: the address is parsed,
// not taken as a string. One client has one key however its address is
// spelled, an IPv6 subscriber counts by its /64, and what does not parse
// counts under one shared key.
func TestClientAddressesAreParsed(t *testing.T) {
	tests := []struct {
		name    string
		addr    string
		wantIP  string
		wantKey string
	}{
		{"IPv4", "203.0.113.7", "203.0.113.7", "ip:203.0.113.7"},
		{"IPv4 with spaces", " 203.0.113.7 ", "203.0.113.7", "ip:203.0.113.7"},
		{"IPv4 with a port", "203.0.113.7:51234", "203.0.113.7", "ip:203.0.113.7"},
		{"IPv4-mapped IPv6 is its IPv4 address", "::ffff:203.0.113.7", "203.0.113.7", "ip:203.0.113.7"},
		{"IPv4-mapped IPv6 in hex", "::ffff:cb00:7107", "203.0.113.7", "ip:203.0.113.7"},
		{"IPv4-mapped IPv6 with a port", "[::ffff:203.0.113.7]:443", "203.0.113.7", "ip:203.0.113.7"},
		{"IPv6 counts by its /64", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "ip:2001:db8:1:2::/64"},
		{"another address of that /64", "2001:db8:1:2::1", "2001:db8:1:2::1", "ip:2001:db8:1:2::/64"},
		{"IPv6 in capitals, spelled out", "2001:0DB8:0001:0002:0000:0000:0000:0009", "2001:db8:1:2::9", "ip:2001:db8:1:2::/64"},
		{"IPv6 with a port", "[2001:db8:1:2::1]:443", "2001:db8:1:2::1", "ip:2001:db8:1:2::/64"},
		{"IPv6 in brackets", "[2001:db8:1:2::1]", "2001:db8:1:2::1", "ip:2001:db8:1:2::/64"},
		{"IPv6 with a zone", "fe80::1%eth0", "fe80::1", "ip:fe80::/64"},
		{"the next /64 is another client", "2001:db8:1:3::1", "2001:db8:1:3::1", "ip:2001:db8:1:3::/64"},
		{"missing", "", "", adapter.UnknownClientKey},
		{"not an address", "unknown", "", adapter.UnknownClientKey},
		{"a list is not an address", "203.0.113.7, 198.51.100.1", "", adapter.UnknownClientKey},
		{"leading zeros are not an address", "203.000.113.007", "", adapter.UnknownClientKey},
		{"a host name is not an address", "example.com", "", adapter.UnknownClientKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, ev := range []map[string]any{
				httpEvent("POST", "/echo", `{}`, func(e map[string]any) { e["requestContext"] = map[string]any{"sourceIp": tt.addr} }),
				httpEvent("POST", "/echo", `{}`, func(e map[string]any) {
					delete(e, "requestContext")
					e["headers"] = map[string]any{"x-scf-remote-addr": tt.addr}
				}),
			} {
				a := invoke(t, newFunction(new(bytes.Buffer)), encode(t, ev))
				if a.Code != "OK" {
					t.Fatalf("answered %s", a.Code)
				}
				if a.Data["ip"] != tt.wantIP || a.Data["key"] != tt.wantKey {
					t.Errorf("%s: ip %v key %v, want %q %q", a.Data["kind"], a.Data["ip"], a.Data["key"], tt.wantIP, tt.wantKey)
				}
			}
		})
	}
}

func TestSixAddressesOfOneSubscriberAreOneClient(t *testing.T) {
	keys := map[any]bool{}
	for _, addr := range []string{"240e:3b0:1:2::1", "240e:3b0:1:2::2", "240e:3b0:1:2:ffff::1", "240e:3b0:1:2:1:2:3:4", "240e:3b0:1:2::abcd", "240e:03b0:0001:0002:0000:0000:0000:0099"} {
		ev := httpEvent("POST", "/echo", `{}`, func(e map[string]any) {
			delete(e, "requestContext")
			e["headers"] = map[string]any{"x-scf-remote-addr": addr}
		})
		keys[invoke(t, newFunction(new(bytes.Buffer)), encode(t, ev)).Data["key"]] = true
	}
	if len(keys) != 1 {
		t.Fatalf("six addresses of one /64 made %d client keys: %v", len(keys), keys)
	}
}

func TestDirectInvocationClientKeys(t *testing.T) {
	for _, tt := range []struct {
		name, event, want string
	}{
		{"no trusted caller: the shared direct key", `{"name":"a"}`, adapter.UntrustedDirectKey},
		{"a foreign app's caller: the shared direct key", `{"userInfo":{"appId":"wxother","openId":"o1"}}`, adapter.UntrustedDirectKey},
		{"a trusted caller without an address: its openid", `{"userInfo":{"appId":"` + appID + `","openId":"o1"}}`, "openid:o1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := invoke(t, newFunction(new(bytes.Buffer)), []byte(tt.event))
			if a.Code != "OK" || a.Data["key"] != tt.want || a.Data["ip"] != "" {
				t.Fatalf("answered %s key %v ip %v, want key %s and no address", a.Code, a.Data["key"], a.Data["ip"], tt.want)
			}
		})
	}
}
