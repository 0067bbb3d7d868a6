// Package apierror defines the one client-facing error type of the auth
// functions: an HTTP status, a stable code, a Chinese message fit to show the
// end user as-is, optional details for the client, and a hidden cause that is
// logged but never sent.
//
// Handlers return these errors; the shared event adapter turns them into
// responses in exactly one place. Any other error reaching the adapter is
// answered as INTERNAL.
package apierror
