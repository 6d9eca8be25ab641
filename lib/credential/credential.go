// Package credential finds the CLI's Alibaba Cloud credentials the way
// Alibaba's own tools do, through github.com/aliyun/credentials-go: the
// environment's AccessKey, OIDC (RRSA), the aliyun CLI's config.json
// profiles (AK, StsToken, RamRoleArn, EcsRamRole, OIDC modes), and the ECS
// instance's RAM role. The function on FC does not use it: there the
// invocation's own STS credentials are the source.
//
// Unlike the SDKs' default chain, the first source that is configured is
// the one used, and its failure is the run's error: a deletion tool must
// not quietly fall through to another identity. The instance RAM role is
// asked only when ALIBABA_CLOUD_ECS_METADATA names it, so that a laptop
// never probes the metadata address.
package credential

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/aliyun/credentials-go/credentials/providers"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

// Environment variables read, as the Alibaba Cloud CLI and SDKs name them.
const (
	EnvAccessKeyID     = "ALIBABA_CLOUD_ACCESS_KEY_ID"
	EnvAccessKeySecret = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
	EnvSecurityToken   = "ALIBABA_CLOUD_SECURITY_TOKEN"
	EnvProfile         = "ALIBABA_CLOUD_PROFILE"
	EnvConfigFile      = "ALIBABA_CLOUD_CONFIG_FILE"
	EnvRoleArn         = "ALIBABA_CLOUD_ROLE_ARN"
	EnvOIDCProviderArn = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN"
	EnvOIDCTokenFile   = "ALIBABA_CLOUD_OIDC_TOKEN_FILE"
	EnvECSMetadata     = "ALIBABA_CLOUD_ECS_METADATA"
)

// ErrNone is returned when no source is configured.
var ErrNone = errors.New("no credentials")

// Chain is the chosen source. It is safe for concurrent use: the
// providers cache temporary credentials and refresh them before they
// expire, but are not themselves safe for concurrent calls.
type Chain struct {
	mu       sync.Mutex
	provider providers.CredentialsProvider
	source   string
}

// Source names where the credentials come from (never their values).
func (c *Chain) Source() string { return c.source }

// Credentials returns the current credentials, refreshed when temporary.
func (c *Chain) Credentials() (ecsapi.Credentials, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cc, err := c.provider.GetCredentials()
	if err != nil {
		return ecsapi.Credentials{}, fmt.Errorf("%s: %w", c.source, err)
	}
	return ecsapi.Credentials{AccessKeyID: cc.AccessKeyId, AccessKeySecret: cc.AccessKeySecret, SecurityToken: cc.SecurityToken}, nil
}

// Find picks the first configured source: an explicit profile (--profile)
// is the only one asked; otherwise the environment's AccessKey, OIDC,
// the CLI's profile file (ALIBABA_CLOUD_PROFILE or its current profile),
// and the ECS instance RAM role. lookup reads the environment.
func Find(lookup func(string) (string, bool), profile string) (*Chain, error) {
	get := func(name string) string { v, _ := lookup(name); return strings.TrimSpace(v) }
	configFile := get(EnvConfigFile)
	if configFile == "" {
		// From the given environment only, so that tests stay hermetic.
		if home := cmp.Or(get("HOME"), get("USERPROFILE")); home != "" {
			configFile = filepath.Join(home, ".aliyun", "config.json")
		}
	}
	if profile != "" {
		return fromProfile(configFile, profile, "--profile")
	}

	id, secret, token := get(EnvAccessKeyID), get(EnvAccessKeySecret), get(EnvSecurityToken)
	switch {
	case id != "" && secret != "" && token != "":
		p, err := providers.NewStaticSTSCredentialsProviderBuilder().WithAccessKeyId(id).WithAccessKeySecret(secret).WithSecurityToken(token).Build()
		return chain(p, "environment ("+EnvAccessKeyID+", STS token)", err)
	case id != "" && secret != "":
		p, err := providers.NewStaticAKCredentialsProviderBuilder().WithAccessKeyId(id).WithAccessKeySecret(secret).Build()
		return chain(p, "environment ("+EnvAccessKeyID+")", err)
	case id != "" || secret != "":
		return nil, fmt.Errorf("%w: %s and %s must be set together (and %s for STS credentials)", ErrNone, EnvAccessKeyID, EnvAccessKeySecret, EnvSecurityToken)
	}

	if role, provider, tokenFile := get(EnvRoleArn), get(EnvOIDCProviderArn), get(EnvOIDCTokenFile); role != "" && provider != "" && tokenFile != "" {
		p, err := providers.NewOIDCCredentialsProviderBuilder().WithRoleArn(role).WithOIDCProviderARN(provider).
			WithOIDCTokenFilePath(tokenFile).WithRoleSessionName("ecs-reaper").Build()
		return chain(p, "OIDC ("+EnvRoleArn+")", err)
	}

	if name := get(EnvProfile); name != "" {
		return fromProfile(configFile, name, EnvProfile)
	}
	if _, err := os.Stat(configFile); configFile != "" && err == nil {
		return fromProfile(configFile, "", "the aliyun CLI's current profile")
	}

	if role := get(EnvECSMetadata); role != "" {
		p, err := providers.NewECSRAMRoleCredentialsProviderBuilder().WithRoleName(role).Build()
		return chain(p, "ECS instance RAM role ("+EnvECSMetadata+")", err)
	}
	return nil, fmt.Errorf("%w: set %s and %s (and %s for STS), configure the aliyun CLI (%s, or --profile), OIDC (%s, %s, %s), or %s on an ECS instance",
		ErrNone, EnvAccessKeyID, EnvAccessKeySecret, EnvSecurityToken, configFile, EnvRoleArn, EnvOIDCProviderArn, EnvOIDCTokenFile, EnvECSMetadata)
}

// fromProfile reads one profile of the CLI's config.json now, so that a
// missing file or profile is reported before anything runs.
func fromProfile(configFile, name, via string) (*Chain, error) {
	p, err := providers.NewCLIProfileCredentialsProviderBuilder().WithProfileFile(configFile).WithProfileName(name).Build()
	label := "profile " + name
	if name == "" {
		label = "current profile"
	}
	c, err := chain(p, fmt.Sprintf("aliyun CLI %s (%s, via %s)", label, configFile, via), err)
	if err != nil {
		return nil, err
	}
	if _, err := c.Credentials(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNone, err)
	}
	return c, nil
}

func chain(p providers.CredentialsProvider, source string, err error) (*Chain, error) {
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNone, source, err)
	}
	return &Chain{provider: p, source: source}, nil
}
