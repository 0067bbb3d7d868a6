// Package checker runs random concurrent sequences of the real requests
// through the functions, over a small pool of people, while the database
// fails at random (writes refused, writes applied whose reply is lost,
// delays), and then checks the stored state against the rules that keep
// one account per person:
//
//   - no identity (phone, openid, unionid) is listed by two live accounts;
//   - every identity a live account lists has a claim naming that account,
//     and, once the repairs have settled, every claim names a live account
//     that lists it;
//   - a deleted account keeps no session and no identity;
//   - no SMS code is judged more than SMS_MAX_ATTEMPTS times;
//   - no refresh token rotates to two different successors;
//   - no request answers INTERNAL, and every login lands on an account
//     holding what it proved.
//
// A run is seeded: the seed fixes each client's sequence of requests and
// the faults drawn, though not the interleaving, which is the point. A
// failure reports the seed and the requests of the people involved.
// `go test ./scripts/internal/checker` runs a bounded check; `go run
// ./scripts/bench checker` a long one.
package checker
