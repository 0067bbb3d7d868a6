package adapter

// Document is a route's answer that is, over HTTP, a body of its own
// instead of the envelope: a JWK Set, which JOSE libraries fetch by URL
// and read as the whole body. A direct invocation still gets the
// envelope, with Data as its data.
type Document struct {
	// Body is the whole HTTP body.
	Body         []byte
	ContentType  string
	CacheControl string
	// Data is the envelope's data for a direct invocation.
	Data any
}
