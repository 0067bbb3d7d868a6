package adapter

import (
	"net/netip"
	"strings"
)

// Client keys (API.md §1) name whom per-client limits count a request
// against. They are the address the platform reported, parsed: one key
// for an IPv4 address (an IPv4-mapped IPv6 address is its IPv4 address),
// one for each IPv6 /64, since a mobile subscriber is given a whole /64
// and picks any address in it. What cannot be parsed counts under one
// shared key, so an odd address never becomes a fresh counter.
const (
	// UnknownClientKey counts HTTP requests without a usable address.
	UnknownClientKey = "ip:unknown"
	// UntrustedDirectKey counts direct invocations with no caller the
	// platform vouches for: the Invoke API from the team's own servers.
	UntrustedDirectKey = "direct:untrusted"
)

// ipv6SubscriberBits is the prefix one IPv6 subscriber holds.
const ipv6SubscriberBits = 64

// parseClientAddr parses an address the platform reported: a bare
// address, or one with a port ("203.0.113.7:443", "[2001:db8::1]:443").
// An IPv4-mapped address becomes its IPv4 address and a zone is dropped,
// so one client has one spelling. ok is false when it is not an address.
func parseClientAddr(raw string) (addr netip.Addr, ok bool) {
	s := strings.TrimSpace(raw)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		addr = ap.Addr()
	} else if addr, err = netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err != nil {
		return netip.Addr{}, false
	}
	return addr.Unmap().WithZone(""), true
}

// clientKeyOf is the key of a parsed address.
func clientKeyOf(addr netip.Addr) string {
	if addr.Is4() {
		return "ip:" + addr.String()
	}
	return "ip:" + netip.PrefixFrom(addr, ipv6SubscriberBits).Masked().String()
}

// setClientAddr records the platform-reported address of the request.
func (r *Request) setClientAddr(raw string) {
	if addr, ok := parseClientAddr(raw); ok {
		r.clientAddr, r.ClientIP = addr, addr.String()
	}
}

// ClientKey is whom per-client limits count this request against: the
// address the platform reported (by IPv4 address or IPv6 /64), else for a
// trusted wx.cloud caller without one its openid, else one shared key:
// UnknownClientKey for HTTP, UntrustedDirectKey for direct invocations
// with no trusted caller. Never an address a client chose.
func (r *Request) ClientKey() string {
	switch {
	case r.clientAddr.IsValid():
		return clientKeyOf(r.clientAddr)
	case r.Kind != Direct:
		return UnknownClientKey
	case r.Caller != nil:
		return "openid:" + r.Caller.OpenID
	}
	return UntrustedDirectKey
}
