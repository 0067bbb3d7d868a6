package tencentcloud

import (
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/wxauth/scf-auth/pkg/config"
)

// Profile is the SDK client profile for endpoint (a host, or a URL such as
// a local fake's), with a request timeout in seconds.
func Profile(endpoint string, timeoutSeconds int) (*profile.ClientProfile, error) {
	scheme, host, err := config.SplitEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	cp := profile.NewClientProfile()
	cp.HttpProfile.Endpoint = host
	cp.HttpProfile.Scheme = scheme
	cp.HttpProfile.ReqTimeout = timeoutSeconds
	// The region breaker would fail over to the public endpoint, which is
	// wrong for a configured endpoint and useless inside SCF.
	cp.DisableRegionBreaker = true
	return cp, nil
}
