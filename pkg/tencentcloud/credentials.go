package tencentcloud

// Credentials give the SDK the configured API keys, or else the function
// role's temporary keys as the platform currently provides them: SCF
// refreshes them in the environment, so they are read at every call.
type Credentials struct {
	id, key string
	getenv  func(string) string
}

// NewCredentials returns credentials preferring the API keys id and key,
// when both are set, over the role's keys read through getenv.
func NewCredentials(id, key string, getenv func(string) string) *Credentials {
	return &Credentials{id: id, key: key, getenv: getenv}
}

// GetCredential implements the SDK's CredentialIface.
func (c *Credentials) GetCredential() (string, string, string) {
	if c.id != "" && c.key != "" {
		return c.id, c.key, ""
	}
	return c.getenv("TENCENTCLOUD_SECRETID"), c.getenv("TENCENTCLOUD_SECRETKEY"), c.getenv("TENCENTCLOUD_SESSIONTOKEN")
}

// Available reports whether there are keys to sign with.
func (c *Credentials) Available() bool {
	id, key, _ := c.GetCredential()
	return id != "" && key != ""
}

// GetSecretId implements the SDK's CredentialIface.
func (c *Credentials) GetSecretId() string { id, _, _ := c.GetCredential(); return id }

// GetSecretKey implements the SDK's CredentialIface.
func (c *Credentials) GetSecretKey() string { _, key, _ := c.GetCredential(); return key }

// GetToken implements the SDK's CredentialIface.
func (c *Credentials) GetToken() string { _, _, token := c.GetCredential(); return token }
