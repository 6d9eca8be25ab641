package ecsapi

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/sts"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
)

// The organisation's calls: STS AssumeRole (2015-04-01) into members and
// ResourceManager ListAccounts (2020-03-31) of the Resource Directory;
// GetCallerIdentity names the caller's own account.
const (
	ActionAssumeRole        = "AssumeRole"
	ActionGetCallerIdentity = "GetCallerIdentity"
	ActionListAccounts      = "ListAccounts"

	STSAPIVersion             = "2015-04-01"
	ResourceManagerAPIVersion = "2020-03-31"

	// The public endpoints, set explicitly: the SDK resolves
	// ResourceManager's "central" endpoint from an empty map.
	DefaultSTSEndpoint             = "https://sts.aliyuncs.com"
	DefaultResourceManagerEndpoint = "https://resourcemanager.aliyuncs.com"

	// MaxAccountsPage is ListAccounts' largest PageSize.
	MaxAccountsPage = 100
)

// orgEndpoints sets AssumeRole's and ListAccounts' endpoints. On a
// loopback ECS endpoint (the doubles) they default to it, so that a test
// never reaches the real services.
func (c *Client) orgEndpoints(cfg Config) error {
	for _, e := range []struct {
		override, def  string
		scheme, domain *string
	}{
		{cfg.STSEndpoint, DefaultSTSEndpoint, &c.stsScheme, &c.stsDomain},
		{cfg.ResourceManagerEndpoint, DefaultResourceManagerEndpoint, &c.rmScheme, &c.rmDomain},
	} {
		endpoint := e.override
		if endpoint == "" {
			endpoint = e.def
			if cloud.IsLoopbackEndpoint(cfg.Endpoint) {
				endpoint = cfg.Endpoint
			}
		}
		scheme, host, err := ParseEndpoint(endpoint)
		if err != nil {
			return err
		}
		*e.scheme, *e.domain = scheme, host
	}
	return nil
}

// AssumeRoleInput is one AssumeRole call.
type AssumeRoleInput struct {
	RoleARN     string // acs:ram::<account>:role/<name>
	SessionName string
	// Policy is the session policy: the token may do only what both it and
	// the role's own policies allow.
	Policy     string
	ExternalID string        // "" sends none
	Duration   time.Duration // 0 sends none (the service's default, 3600 s)
}

// AssumeRoleOutput is a successful AssumeRole answer.
type AssumeRoleOutput struct {
	Credentials Credentials
	Expiration  time.Time
	RoleARN     string // the assumed role user's ARN
	RequestID   string
}

// AssumeRole asks STS for temporary credentials of a role (in a member
// account) with the client's own credentials.
func (c *Client) AssumeRole(ctx context.Context, in AssumeRoleInput) (AssumeRoleOutput, error) {
	const action = ActionAssumeRole
	conf, provider, err := c.sdkConfig(ctx, c.stsScheme, nil)
	if err != nil {
		return AssumeRoleOutput{}, err
	}
	client, err := sts.NewClientWithOptions("cn-hangzhou", conf, provider)
	if err != nil {
		return AssumeRoleOutput{}, fmt.Errorf("sts client: %w", err)
	}
	client.Domain = c.stsDomain
	if in.ExternalID != "" {
		// Not a secret by the docs, but never shown: an answer echoing it
		// is redacted like the credentials.
		c.secretsMu.Lock()
		if !slices.Contains(c.secrets, in.ExternalID) {
			c.secrets = append(c.secrets, in.ExternalID)
		}
		c.secretsMu.Unlock()
	}
	req := sts.CreateAssumeRoleRequest()
	req.RoleArn = in.RoleARN
	req.RoleSessionName = in.SessionName
	req.Policy = in.Policy
	req.ExternalId = in.ExternalID
	if in.Duration > 0 {
		req.DurationSeconds = requests.NewInteger(int(in.Duration / time.Second))
	}
	if err := c.prepareFor(ctx, action, req, c.stsScheme); err != nil {
		return AssumeRoleOutput{}, c.wrap(ctx, action, "", err)
	}
	resp, err := guard(action, "", func() (*sts.AssumeRoleResponse, error) { return client.AssumeRole(req) })
	if err != nil {
		return AssumeRoleOutput{}, c.wrap(ctx, action, "", err)
	}
	cr := resp.Credentials
	if resp.RequestId == "" || cr.AccessKeyId == "" || cr.AccessKeySecret == "" || cr.SecurityToken == "" {
		return AssumeRoleOutput{}, malformed(action, "", "no RequestId or incomplete credentials")
	}
	expires, err := time.Parse(time.RFC3339, cr.Expiration)
	if err != nil {
		return AssumeRoleOutput{}, malformed(action, "", "the credentials' Expiration is not an RFC 3339 time")
	}
	// Credentials for another account than the role's must never sign a
	// call meant for this one: the assumed role's ARN names its account.
	if account, ok := roleAccount(in.RoleARN); !ok || !strings.HasPrefix(resp.AssumedRoleUser.Arn, "acs:ram::"+account+":") {
		return AssumeRoleOutput{}, malformed(action, "", "the assumed role's ARN (AssumedRoleUser.Arn) is not in the account of the role asked for")
	}
	return AssumeRoleOutput{
		Credentials: Credentials{AccessKeyID: cr.AccessKeyId, AccessKeySecret: cr.AccessKeySecret, SecurityToken: cr.SecurityToken},
		Expiration:  expires, RoleARN: resp.AssumedRoleUser.Arn, RequestID: resp.RequestId,
	}, nil
}

// CallerIdentity is GetCallerIdentity's answer.
type CallerIdentity struct {
	AccountID string
	ARN       string
	RequestID string
}

// GetCallerIdentity names the account the client's credentials belong to.
func (c *Client) GetCallerIdentity(ctx context.Context) (CallerIdentity, error) {
	const action = ActionGetCallerIdentity
	conf, provider, err := c.sdkConfig(ctx, c.stsScheme, nil)
	if err != nil {
		return CallerIdentity{}, err
	}
	client, err := sts.NewClientWithOptions("cn-hangzhou", conf, provider)
	if err != nil {
		return CallerIdentity{}, fmt.Errorf("sts client: %w", err)
	}
	client.Domain = c.stsDomain
	req := sts.CreateGetCallerIdentityRequest()
	if err := c.prepareFor(ctx, action, req, c.stsScheme); err != nil {
		return CallerIdentity{}, c.wrap(ctx, action, "", err)
	}
	resp, err := guard(action, "", func() (*sts.GetCallerIdentityResponse, error) { return client.GetCallerIdentity(req) })
	if err != nil {
		return CallerIdentity{}, c.wrap(ctx, action, "", err)
	}
	if resp.RequestId == "" || !ValidAccountID(resp.AccountId) {
		return CallerIdentity{}, malformed(action, "", "no RequestId or no valid AccountId")
	}
	return CallerIdentity{AccountID: resp.AccountId, ARN: resp.Arn, RequestID: resp.RequestId}, nil
}

// ValidAccountID reports whether id looks like an Alibaba Cloud account
// ID (a UID): digits only, 1 to 20 of them.
func ValidAccountID(id string) bool {
	if id == "" || len(id) > 20 {
		return false
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ListAccountsInput is one page of ListAccounts.
type ListAccountsInput struct {
	PageNumber int // from 1
	PageSize   int // 1..MaxAccountsPage
	// TagKey and TagValue filter by one tag ("" TagKey: none).
	TagKey, TagValue string
}

// Account is a member of the Resource Directory.
type Account struct {
	ID, Name string
	// Status is the member's join state (CreateSuccess, InviteSuccess,
	// PromoteVerifying, ...).
	Status   string
	Type     string
	FolderID string
	// Path is ResourceDirectoryPath: the folders from the root to it.
	Path string
	Tags map[string]string
}

// AccountsPage is one page of ListAccounts.
type AccountsPage struct {
	Accounts                         []Account
	TotalCount, PageNumber, PageSize int
	RequestID                        string
}

// ListAccounts reads one page of the Resource Directory's members, with
// their tags.
func (c *Client) ListAccounts(ctx context.Context, in ListAccountsInput) (AccountsPage, error) {
	const action = ActionListAccounts
	if in.PageNumber < 1 || in.PageSize < 1 || in.PageSize > MaxAccountsPage {
		return AccountsPage{}, fmt.Errorf("list accounts: page %d of size %d: want a page from 1 and a size 1..%d", in.PageNumber, in.PageSize, MaxAccountsPage)
	}
	conf, provider, err := c.sdkConfig(ctx, c.rmScheme, nil)
	if err != nil {
		return AccountsPage{}, err
	}
	client, err := resourcemanager.NewClientWithOptions("cn-hangzhou", conf, provider)
	if err != nil {
		return AccountsPage{}, fmt.Errorf("resourcemanager client: %w", err)
	}
	client.Domain = c.rmDomain
	req := resourcemanager.CreateListAccountsRequest()
	req.PageNumber = requests.NewInteger(in.PageNumber)
	req.PageSize = requests.NewInteger(in.PageSize)
	req.IncludeTags = requests.NewBoolean(true)
	if in.TagKey != "" {
		req.Tag = &[]resourcemanager.ListAccountsTag{{Key: in.TagKey, Value: in.TagValue}}
	}
	if err := c.prepareFor(ctx, action, req, c.rmScheme); err != nil {
		return AccountsPage{}, c.wrap(ctx, action, "", err)
	}
	resp, err := guard(action, "", func() (*resourcemanager.ListAccountsResponse, error) { return client.ListAccounts(req) })
	if err != nil {
		return AccountsPage{}, c.wrap(ctx, action, "", err)
	}
	if resp.RequestId == "" {
		return AccountsPage{}, malformed(action, "", "no RequestId")
	}
	out := AccountsPage{TotalCount: resp.TotalCount, PageNumber: resp.PageNumber, PageSize: resp.PageSize, RequestID: resp.RequestId}
	for _, a := range resp.Accounts.Account {
		if !ValidAccountID(a.AccountId) {
			return AccountsPage{}, malformed(action, "", "a member without a valid AccountId")
		}
		acc := Account{ID: a.AccountId, Name: a.DisplayName, Status: a.Status, Type: a.Type, FolderID: a.FolderId,
			Path: a.ResourceDirectoryPath, Tags: map[string]string{}}
		for _, t := range a.Tags.Tag {
			// The answer's tags are Key/Value; the SDK also knows TagKey/TagValue.
			key, value := t.Key, t.Value
			if key == "" {
				key, value = t.TagKey, t.TagValue
			}
			if key != "" {
				acc.Tags[key] = value
			}
		}
		out.Accounts = append(out.Accounts, acc)
	}
	return out, nil
}

// RoleARN is the ARN of role name in account.
func RoleARN(account, role string) string {
	return "acs:ram::" + account + ":role/" + strings.TrimSpace(role)
}

// roleAccount is the account of a role ARN acs:ram::<account>:role/<name>.
func roleAccount(arn string) (string, bool) {
	rest, ok := strings.CutPrefix(arn, "acs:ram::")
	if !ok {
		return "", false
	}
	account, _, ok := strings.Cut(rest, ":role/")
	return account, ok && ValidAccountID(account)
}
