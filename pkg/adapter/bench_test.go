package adapter_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
)

// The adapter's own cost per event, around a handler that does nothing
// but read its fields: what every request pays before the database.

func BenchmarkFunctionURLEvent(b *testing.B) {
	f := newFunction(new(bytes.Buffer))
	f.Logger = discardLogger()
	ev := []byte(`{"body":"{\"name\":\"a\",\"count\":1}","headers":{"content-type":"application/json","x-scf-remote-addr":"240e:3b0:1:2::1"},"httpMethod":"POST","path":"/","queryString":{}}`)
	benchInvoke(b, context.Background(), f.Invoke, ev)
}

func BenchmarkWXCloudCallFromTheContext(b *testing.B) {
	f := newFunction(new(bytes.Buffer))
	f.Logger = discardLogger()
	ctx := withContext(wxCaller(appID, "o-bench", "WX_UNIONID", "u-bench", "WX_CLIENTIP", "203.0.113.5"))
	benchInvoke(b, ctx, f.Invoke, []byte(`{"name":"a","count":1}`))
}

func benchInvoke(b *testing.B, ctx context.Context, invoke func(context.Context, []byte) ([]byte, error), ev []byte) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := invoke(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }
