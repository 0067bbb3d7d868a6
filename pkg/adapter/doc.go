// Package adapter is the one place where SCF events become requests and
// results become answers.
//
// A function accepts three kinds of event (API.md §1): HTTP through a
// function URL, HTTP through API Gateway, and direct invocation (the SCF
// Invoke API or wx.cloud.callFunction). The adapter tells them apart by
// the platform's shape alone, enforces the 16 KiB body cap, parses the
// body strictly, routes by path and method (or by action for direct
// invocations), and answers with the JSON envelope of API.md §2: as an
// integrated HTTP response for HTTP events, as the envelope itself for
// direct invocations. Errors are mapped to codes and statuses here and
// nowhere else; 5xx causes are logged with the request id, never sent.
//
// A function URL belongs to one function, so its paths are the routes
// below the function's own segment ("/", "/phone"); the full routes
// (/profile/phone) route the same, also below a base path.
//
// The wx.cloud caller comes from the invocation's context (the WX_ keys
// of functioncontext's per-invocation Environment), or on older platforms
// from the userInfo member of the event; when both are there they must
// agree. It is read per invocation and never from the process
// environment, where scf-go-lib leaves the context of earlier
// invocations.
//
// The client address is the one the platform reported, parsed: limits
// count an IPv4 address, an IPv6 /64, a trusted caller, or one shared key
// (Request.ClientKey).
package adapter
