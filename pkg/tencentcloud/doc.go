// Package tencentcloud holds what the Tencent Cloud SDK clients (SMS,
// Captcha) share: the credentials (API keys, or the function role's
// temporary keys) and the client profile for a configured endpoint.
package tencentcloud
