// Package credential finds the CLI's Alibaba Cloud credentials the way
// Alibaba's own tools do, through github.com/aliyun/credentials-go: the
// environment's AccessKey, OIDC (RRSA), the aliyun CLI's config.json
// profiles (AK, StsToken, RamRoleArn, EcsRamRole, OIDC modes), and the ECS
// instance's RAM role. The function on FC does not use it: there the
// invocation's own STS credentials are the source.
//
// Unlike the SDKs' default chain, the first source that is configured is
// the one used, and its failure is the run's error: a deletion tool must
// not quietly fall through to another identity. For the same reason a
// source whose variables are only partly set (or set but empty) is an
// error naming what is missing, never skipped. The instance RAM role is
// asked only when ALIBABA_CLOUD_ECS_METADATA names it, so that a laptop
// never probes the metadata address.
//
// Every error of a source is rebuilt by one redactor (redact.go) from
// known-safe parts: credentials-go's own messages can carry a whole
// config file or a signed STS request URL.
package credential

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
	EnvOIDCToken       = "ALIBABA_CLOUD_OIDC_TOKEN"
	EnvECSMetadata     = "ALIBABA_CLOUD_ECS_METADATA"

	// Sources of the SDKs' default chain this tool does not read.
	EnvCredentialsFile = "ALIBABA_CLOUD_CREDENTIALS_FILE"
	EnvCredentialsURI  = "ALIBABA_CLOUD_CREDENTIALS_URI"
)

// ErrNone is returned when no source is configured or the configured one
// cannot give credentials.
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
// Its error is an *Error: the library's own text never leaves.
func (c *Chain) Credentials() (ecsapi.Credentials, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cc, err := c.provider.GetCredentials()
	if err == nil && cc == nil {
		err = errors.New("no credentials")
	}
	if err != nil {
		return ecsapi.Credentials{}, sourceError(c.source, err)
	}
	return ecsapi.Credentials{AccessKeyID: cc.AccessKeyId, AccessKeySecret: cc.AccessKeySecret, SecurityToken: cc.SecurityToken}, nil
}

// envSource is a source configured by environment variables: each entry
// of needs is a set of alternatives, one of which must be set.
type envSource struct {
	name     string
	needs    [][]string
	optional []string
	hint     string
}

var envSources = []envSource{
	{name: "the environment's AccessKey", needs: [][]string{{EnvAccessKeyID}, {EnvAccessKeySecret}}, optional: []string{EnvSecurityToken},
		hint: EnvAccessKeyID + " and " + EnvAccessKeySecret + " must be set together (and " + EnvSecurityToken + " with them for STS credentials)"},
	{name: "OIDC (RRSA)", needs: [][]string{{EnvRoleArn}, {EnvOIDCProviderArn}, {EnvOIDCTokenFile, EnvOIDCToken}},
		hint: "OIDC needs all of " + EnvRoleArn + ", " + EnvOIDCProviderArn + " and " + EnvOIDCTokenFile + " (or " + EnvOIDCToken + ")"},
	{name: "the ECS instance RAM role", needs: [][]string{{EnvECSMetadata}},
		hint: EnvECSMetadata + " names the instance's RAM role"},
}

// halfSet is the error for every source some of whose variables are
// present (even empty) while a required one is missing or empty: such a
// source is never skipped in favour of the next.
func halfSet(lookup func(string) (string, bool)) error {
	var errs []error
	for _, src := range envSources {
		var present, empty, missing []string
		usable := func(name string) bool {
			v, ok := lookup(name)
			if ok {
				present = append(present, name)
				if strings.TrimSpace(v) == "" {
					empty = append(empty, name)
				}
			}
			return ok && strings.TrimSpace(v) != ""
		}
		for _, alternatives := range src.needs {
			found := false
			for _, name := range alternatives {
				found = usable(name) || found
			}
			if !found {
				missing = append(missing, strings.Join(alternatives, " or "))
			}
		}
		for _, name := range src.optional {
			usable(name)
		}
		if len(present) == 0 || (len(missing) == 0 && len(empty) == 0) {
			continue
		}
		var what []string
		if len(missing) > 0 {
			what = append(what, "missing "+strings.Join(missing, ", "))
		}
		if len(empty) > 0 {
			what = append(what, "set but empty: "+strings.Join(empty, ", "))
		}
		errs = append(errs, fmt.Errorf("%s is half set (%s): %s; set the rest, or unset %s",
			src.name, strings.Join(what, "; "), src.hint, strings.Join(present, ", ")))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrNone, errors.Join(errs...))
}

// Find picks the first configured source: an explicit profile (--profile)
// is the only one asked; otherwise the environment's AccessKey, OIDC,
// the CLI's profile file (ALIBABA_CLOUD_PROFILE or its current profile),
// and the ECS instance RAM role. A half-set environment source is an
// error. lookup reads the environment.
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
	if err := halfSet(lookup); err != nil {
		return nil, err
	}

	id, secret, token := get(EnvAccessKeyID), get(EnvAccessKeySecret), get(EnvSecurityToken)
	switch {
	case id != "" && token != "":
		p, err := providers.NewStaticSTSCredentialsProviderBuilder().WithAccessKeyId(id).WithAccessKeySecret(secret).WithSecurityToken(token).Build()
		return chain(p, "environment ("+EnvAccessKeyID+", STS token)", err)
	case id != "":
		p, err := providers.NewStaticAKCredentialsProviderBuilder().WithAccessKeyId(id).WithAccessKeySecret(secret).Build()
		return chain(p, "environment ("+EnvAccessKeyID+")", err)
	}

	if role := get(EnvRoleArn); role != "" {
		b := providers.NewOIDCCredentialsProviderBuilder().WithRoleArn(role).WithOIDCProviderARN(get(EnvOIDCProviderArn)).WithRoleSessionName("ecs-reaper")
		via := EnvOIDCTokenFile
		if file := get(EnvOIDCTokenFile); file != "" {
			b = b.WithOIDCTokenFilePath(file)
		} else {
			b, via = b.WithOIDCToken(get(EnvOIDCToken)), EnvOIDCToken
		}
		p, err := b.Build()
		return chain(p, "OIDC ("+EnvRoleArn+", "+via+")", err)
	}

	if name := get(EnvProfile); name != "" {
		return fromProfile(configFile, name, EnvProfile)
	}
	if _, err := os.Stat(configFile); configFile != "" && err == nil {
		return fromProfile(configFile, "", "")
	}

	// The SDKs ask a credentials file before the instance role: taking
	// the role instead would be another identity than theirs.
	if file := get(EnvCredentialsFile); file != "" {
		return nil, fmt.Errorf("%w: %s is set, a source this tool does not read (the SDKs would use it here); configure the aliyun CLI (--profile) or the environment's AccessKey instead, or unset it",
			ErrNone, EnvCredentialsFile)
	}
	if role := get(EnvECSMetadata); role != "" {
		p, err := providers.NewECSRAMRoleCredentialsProviderBuilder().WithRoleName(role).Build()
		return chain(p, "ECS instance RAM role ("+EnvECSMetadata+")", err)
	}
	unread := ""
	if get(EnvCredentialsURI) != "" {
		unread = fmt.Sprintf(" (%s is set, but this tool does not read it)", EnvCredentialsURI)
	}
	return nil, fmt.Errorf("%w: set %s and %s (and %s for STS), configure the aliyun CLI (%s, or --profile), OIDC (%s, %s, %s), or %s on an ECS instance%s",
		ErrNone, EnvAccessKeyID, EnvAccessKeySecret, EnvSecurityToken, configFile, EnvRoleArn, EnvOIDCProviderArn, EnvOIDCTokenFile, EnvECSMetadata, unread)
}

// fromProfile reads one profile of the CLI's config.json now, so that a
// missing file or profile is reported before anything runs. The file is
// checked here first: the library's own errors quote the whole file.
func fromProfile(configFile, name, via string) (*Chain, error) {
	if via != "" {
		via = ", via " + via
	}
	label := func(name string) string {
		if name == "" {
			return fmt.Sprintf("aliyun CLI current profile (%s%s)", configFile, via)
		}
		return fmt.Sprintf("aliyun CLI profile %s (%s%s)", name, configFile, via)
	}
	if configFile == "" {
		return nil, fmt.Errorf("%w: %w", ErrNone, &Error{Source: label(name), Reason: "no config file: HOME is not set (set " + EnvConfigFile + ")"})
	}
	resolved, why := checkConfig(configFile, name)
	if name == "" && resolved != "" {
		label = func(string) string {
			return fmt.Sprintf("aliyun CLI current profile %s (%s%s)", resolved, configFile, via)
		}
	}
	if why != "" {
		return nil, fmt.Errorf("%w: %w", ErrNone, &Error{Source: label(name), Reason: why})
	}
	p, err := providers.NewCLIProfileCredentialsProviderBuilder().WithProfileFile(configFile).WithProfileName(resolved).Build()
	c, err := chain(p, label(name), err)
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
		return nil, fmt.Errorf("%w: %w", ErrNone, sourceError(source, err))
	}
	return &Chain{provider: p, source: source}, nil
}

// cliConfig mirrors the fields and types credentials-go reads from the
// aliyun CLI's config.json, so that what it would refuse is refused here
// with a message that quotes none of the file.
type cliConfig struct {
	Current  string       `json:"current"`
	Profiles []cliProfile `json:"profiles"`
}

type cliProfile struct {
	Name                   string `json:"name"`
	Mode                   string `json:"mode"`
	AccessKeyID            string `json:"access_key_id"`
	AccessKeySecret        string `json:"access_key_secret"`
	SecurityToken          string `json:"sts_token"`
	RoleArn                string `json:"ram_role_arn"`
	DurationSeconds        int    `json:"expired_seconds"`
	EnableVpc              bool   `json:"enable_vpc"`
	SourceProfile          string `json:"source_profile"`
	OIDCTokenFile          string `json:"oidc_token_file"`
	OIDCToken              string `json:"oidc_token"`
	OIDCProviderARN        string `json:"oidc_provider_arn"`
	AccessTokenExpire      int64  `json:"cloud_sso_access_token_expire"`
	OauthAccessTokenExpire int64  `json:"oauth_access_token_expire"`
	StsExpire              int64  `json:"sts_expiration"`
}

// needs lists, per mode, the fields without which the profile is half
// set; modes credentials-go knows but that need nothing checked here
// have an empty list.
var modeNeeds = map[string][]string{
	"AK":                  {"access_key_id", "access_key_secret"},
	"StsToken":            {"access_key_id", "access_key_secret", "sts_token"},
	"RamRoleArn":          {"access_key_id", "access_key_secret", "ram_role_arn"},
	"EcsRamRole":          {},
	"OIDC":                {"ram_role_arn", "oidc_provider_arn", "oidc_token_file"},
	"ChainableRamRoleArn": {"source_profile", "ram_role_arn"},
	"CloudSSO":            {},
	"OAuth":               {},
	"External":            {},
}

func (p *cliProfile) has(field string) bool {
	v := map[string]string{
		"access_key_id": p.AccessKeyID, "access_key_secret": p.AccessKeySecret, "sts_token": p.SecurityToken,
		"ram_role_arn": p.RoleArn, "oidc_provider_arn": p.OIDCProviderARN, "source_profile": p.SourceProfile,
		"oidc_token_file": p.OIDCTokenFile + p.OIDCToken, // either will do
	}[field]
	return strings.TrimSpace(v) != ""
}

// checkConfig reads the file and the profile (the current one when name
// is empty), and returns the profile's name and, when it cannot be used,
// why: a reason built from offsets, field and profile names only.
func checkConfig(file, name string) (resolved, why string) {
	data, err := os.ReadFile(file)
	if err != nil {
		return name, reason(err)
	}
	var conf cliConfig
	if err := json.Unmarshal(data, &conf); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			line, col := position(data, syntax.Offset)
			return name, fmt.Sprintf("JSON syntax error at line %d, column %d (offset %d)", line, col, syntax.Offset)
		}
		return name, reason(err)
	}
	if len(conf.Profiles) == 0 {
		return name, "the file has no profiles"
	}
	if name == "" {
		if name = conf.Current; name == "" {
			return "", `the file names no current profile ("current")`
		}
	}
	return name, checkProfile(&conf, name, 0)
}

func checkProfile(conf *cliConfig, name string, depth int) string {
	i := slices.IndexFunc(conf.Profiles, func(p cliProfile) bool { return p.Name == name })
	if i < 0 {
		var names []string
		for _, p := range conf.Profiles {
			names = append(names, fmt.Sprintf("%q", p.Name))
		}
		return fmt.Sprintf("no profile named %q (the file has %s)", name, strings.Join(names, ", "))
	}
	p := &conf.Profiles[i]
	needs, known := modeNeeds[p.Mode]
	if !known {
		return fmt.Sprintf("profile %q has mode %s, which credentials-go does not support", name, safeToken(p.Mode))
	}
	var missing []string
	for _, field := range needs {
		if !p.has(field) {
			missing = append(missing, field)
		}
	}
	if len(missing) > 0 {
		return fmt.Sprintf("profile %q (mode %s) is half set: missing %s", name, p.Mode, strings.Join(missing, ", "))
	}
	if p.Mode == "ChainableRamRoleArn" {
		if depth >= 8 {
			return fmt.Sprintf("profile %q: its source_profile chain is too long (a loop?)", name)
		}
		if r := checkProfile(conf, p.SourceProfile, depth+1); r != "" {
			return fmt.Sprintf("profile %q's source_profile: %s", name, r)
		}
	}
	return ""
}

// position is the 1-based line and column of the byte a JSON syntax
// error stopped at (its offset counts the bytes read, that one included).
func position(data []byte, offset int64) (line, col int) {
	at := int(min(max(offset-1, 0), int64(len(data))))
	before := string(data[:at])
	return 1 + strings.Count(before, "\n"), at - strings.LastIndexByte(before, '\n')
}
