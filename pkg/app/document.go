package app

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/wxauth/scf-auth/pkg/adapter"
)

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

// Function is what the SCF runtime calls: the adapter's Function, whose
// successful HTTP answer a route may replace by a Document.
type Function struct {
	*adapter.Function
}

type documentKey struct{}

// documentSlot is where a route leaves its Document for Invoke.
type documentSlot struct{ doc *Document }

// Invoke implements cloudfunction.Handler.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	slot := new(documentSlot)
	out, err := f.Function.Invoke(context.WithValue(ctx, documentKey{}, slot), payload)
	if err != nil || slot.doc == nil {
		return out, err
	}
	return withDocument(out, slot.doc), nil
}

// documents makes the routes' handlers pass a Document they return to
// Invoke, and its Data to the envelope.
func documents(routes []adapter.Route) []adapter.Route {
	wrapped := make([]adapter.Route, len(routes))
	for i, r := range routes {
		handle := r.Handle
		r.Handle = func(ctx context.Context, req *adapter.Request) (any, error) {
			data, err := handle(ctx, req)
			doc, ok := data.(Document)
			if err != nil || !ok {
				return data, err
			}
			if slot, _ := ctx.Value(documentKey{}).(*documentSlot); slot != nil && req.Kind != adapter.Direct {
				slot.doc = &doc
			}
			return doc.Data, nil
		}
		wrapped[i] = r
	}
	return wrapped
}

// integratedResponse is the HTTP answer the adapter writes for API Gateway
// and function URL events.
type integratedResponse struct {
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
}

// withDocument puts doc in place of the envelope of a successful HTTP
// answer, keeping its other headers (the request id); any other answer
// stays as it is.
func withDocument(out []byte, doc *Document) []byte {
	var resp integratedResponse
	if json.Unmarshal(out, &resp) != nil || resp.StatusCode != http.StatusOK || resp.Headers == nil {
		return out
	}
	resp.Headers["Content-Type"] = doc.ContentType
	resp.Headers["Cache-Control"] = doc.CacheControl
	resp.Body = string(doc.Body)
	replaced, err := json.Marshal(resp)
	if err != nil {
		return out
	}
	return replaced
}
