// Package localscf runs the functions locally the way SCF runs them: each
// function is built to its own binary and started as its own process,
// which serves scf-go-lib's net/rpc protocol on _LAMBDA_SERVER_PORT and is
// sent each invocation as the platform sends it, an InvokeRequest with the
// event as Payload and the invocation's context (a wx.cloud caller's WX_
// keys) as Environment. An HTTP front turns requests into API Gateway
// events, routing by the first path segment to the function of that name,
// and plays wx.cloud.callFunction below WXCloudPath. The local gateway
// (scripts/dev) and the benchmarks (scripts/bench) are built on it.
package localscf
