// Package wechat is the client of the WeChat server APIs a mini-program
// login needs: jscode2session, cgi-bin/stable_token (the access token,
// cached in the store and shared by every instance), and
// wxa/business/getuserphonenumber, plus the legacy encryptedData decryption.
//
// Each call gets a timeout from the invocation's deadline and is retried
// once on a network error or WeChat's "busy" (-1). WeChat's error codes map
// to the contract's codes in errors.go; misconfiguration (a wrong appid or
// secret) is INTERNAL with a log line naming the variable. Secrets and
// session_key never appear in errors or logs: transport errors are stripped
// of the URL, which carries the secret.
package wechat
