// Package adapter is the one place where SCF events become requests and
// results become answers.
//
// A function accepts three kinds of event (API.md §1): HTTP through API
// Gateway, HTTP through a function URL, and direct invocation (the SCF Invoke
// API or wx.cloud.callFunction). The adapter recognises each, enforces the
// 16 KiB body cap, parses the body strictly, routes by path and method (or by
// action for direct invocations), and answers with the JSON envelope of
// API.md §2: as an integrated HTTP response for HTTP events, as the envelope
// itself for direct invocations. Errors are mapped to codes and statuses here
// and nowhere else; 5xx causes are logged with the request id, never sent.
package adapter
