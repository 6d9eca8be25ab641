package ecsapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/mark"
)

// Credentials are an AccessKey pair and, for STS, a security token. They
// format as redacted text so that they cannot leak through logs.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// String redacts everything but a prefix of the key ID.
func (c Credentials) String() string {
	id := c.AccessKeyID
	if len(id) > 4 {
		id = id[:4] + "…"
	}
	return fmt.Sprintf("Credentials{AccessKeyID:%s, AccessKeySecret:<redacted>, SecurityToken:<redacted>}", id)
}

// GoString keeps %#v from printing the secret.
func (c Credentials) GoString() string { return c.String() }

// LogValue keeps slog from printing the secret.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Config configures the SDK-backed client.
type Config struct {
	Credentials Credentials
	// Endpoint overrides the endpoint of every region, e.g.
	// "https://ecs-vpc.cn-hangzhou.aliyuncs.com" or "http://127.0.0.1:8080".
	// Empty means the SDK's regional endpoint over HTTPS.
	Endpoint string
	// VPCEndpoint overrides the VPC API's endpoint (EIPs), with the same
	// rules; empty means the SDK's.
	VPCEndpoint string
	// STSEndpoint and ResourceManagerEndpoint override the endpoints of
	// AssumeRole and ListAccounts (org.go), with the same rules; empty
	// means DefaultSTSEndpoint and DefaultResourceManagerEndpoint.
	STSEndpoint             string
	ResourceManagerEndpoint string
	// Transport carries the requests; nil means a shared pooled transport.
	Transport http.RoundTripper
	// ReadTimeout, when set, bounds every call (tests); by default each
	// action has its own (ReadTimeout(action)).
	ReadTimeout time.Duration
	// ConnectTimeout bounds connecting; default 5 s.
	ConnectTimeout time.Duration
	// Source, when set, gives the credentials for each call instead of
	// Credentials: a chain that refreshes temporary credentials during a
	// long run.
	Source CredentialSource
}

// CredentialSource gives the credentials to sign the next call with.
type CredentialSource interface {
	Credentials() (Credentials, error)
}

// CodeCredentials is the code of a call that could not get credentials.
const CodeCredentials = "Credentials.Unavailable"

// Client calls ECS through alibaba-cloud-sdk-go. It is safe for concurrent
// use: each call gets its own SDK client, because the SDK mutates its HTTP
// client's timeout on every call.
type Client struct {
	creds          Credentials
	source         CredentialSource
	secretsMu      sync.Mutex
	secrets        []string // every credential used, for redaction
	scheme         string
	domain         string // host[:port]; "" means SDK endpoint resolution
	vpcScheme      string // the VPC API's, from VPCEndpoint
	vpcDomain      string
	stsScheme      string // AssumeRole's, from STSEndpoint
	stsDomain      string
	rmScheme       string // ListAccounts', from ResourceManagerEndpoint
	rmDomain       string
	transport      http.RoundTripper
	readTimeout    time.Duration
	connectTimeout time.Duration
	clock          *serverClock
}

var sharedTransport = &http.Transport{
	Proxy:               http.ProxyFromEnvironment,
	DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	MaxIdleConns:        256,
	MaxIdleConnsPerHost: 64,
	IdleConnTimeout:     90 * time.Second,
	TLSHandshakeTimeout: 5 * time.Second,
	ForceAttemptHTTP2:   true,
}

// NewClient validates cfg and returns a client. Production calls go over
// HTTPS; plain HTTP is used only when Endpoint says so explicitly.
func NewClient(cfg Config) (*Client, error) {
	if cfg.Source == nil && (cfg.Credentials.AccessKeyID == "" || cfg.Credentials.AccessKeySecret == "") {
		return nil, errors.New("ecs client: missing credentials: an AccessKey ID and secret are required")
	}
	c := &Client{
		creds:          cfg.Credentials,
		source:         cfg.Source,
		scheme:         "HTTPS",
		transport:      cfg.Transport,
		readTimeout:    cfg.ReadTimeout,
		connectTimeout: cfg.ConnectTimeout,
		clock:          &serverClock{},
	}
	if c.transport == nil {
		c.transport = sharedTransport
	}
	if c.connectTimeout <= 0 {
		c.connectTimeout = 5 * time.Second
	}
	if cfg.Endpoint != "" {
		scheme, host, err := ParseEndpoint(cfg.Endpoint)
		if err != nil {
			return nil, err
		}
		c.scheme, c.domain = scheme, host
	}
	c.vpcScheme = "HTTPS"
	if cfg.VPCEndpoint == "" && cloud.IsLoopbackEndpoint(cfg.Endpoint) {
		// The doubles serve both APIs on one loopback endpoint; a test
		// must never reach the real VPC API.
		cfg.VPCEndpoint = cfg.Endpoint
	}
	if cfg.VPCEndpoint != "" {
		scheme, host, err := ParseEndpoint(cfg.VPCEndpoint)
		if err != nil {
			return nil, err
		}
		c.vpcScheme, c.vpcDomain = scheme, host
	}
	if err := c.orgEndpoints(cfg); err != nil {
		return nil, err
	}
	return c, nil
}

// ParseEndpoint checks an endpoint URL (cloud.ParseEndpoint's rules) and
// returns the SDK scheme and host.
func ParseEndpoint(endpoint string) (scheme, host string, err error) {
	scheme, host, err = cloud.ParseEndpoint(endpoint)
	if err != nil {
		return "", "", fmt.Errorf("endpoint %q: %w", cloud.RedactEndpoint(endpoint), err)
	}
	return scheme, host, nil
}

// contextTransport binds every request the SDK makes to the caller's
// context: cancellation and the invocation deadline end the call even though
// the SDK takes no context.
type contextTransport struct {
	ctx     context.Context
	base    http.RoundTripper
	capture *pageCapture // nil: the SDK reads every answer
	clock   *serverClock // takes every answer's Date
}

// RoundTrip sends r under the bound context.
func (t contextTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r.WithContext(t.ctx))
	if err == nil && t.clock != nil {
		t.clock.take(resp.Header.Get("Date"))
	}
	if err != nil || t.capture == nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, err
	}
	if err := t.capture.take(resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// sdkReady initialises the SDK's package-level endpoint map once (the SDK
// fills it lazily, without synchronisation, on the first client, so the
// first concurrent calls would race on it) and builds the answers' JSON
// decoders once: json-iterator builds a type's decoder on first use without
// a lock, so the 80 concurrent DeleteInstances calls of a large sweep would
// each build the same one. (The listing's decoder costs about 1.5 ms to
// build; the rarely called actions build theirs on first use.)
var sdkReady sync.Once

func primeSDK() {
	ecs.GetEndpointMap()
	ecs.GetEndpointType()
	vpc.GetEndpointMap()
	vpc.GetEndpointType()
	var page describeInstancesBody
	_ = pageJSON.Unmarshal([]byte("{}"), &page)
	for _, resp := range []responses.AcsResponse{&responses.BaseResponse{}, ecs.CreateDeleteInstancesResponse()} {
		ok := &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}"))}
		_ = responses.Unmarshal(resp, ok, "JSON")
	}
}

// credentials returns the credentials for the next call.
func (c *Client) credentials() (Credentials, error) {
	if c.source == nil {
		return c.creds, nil
	}
	creds, err := c.source.Credentials()
	if err == nil && (creds.AccessKeyID == "" || creds.AccessKeySecret == "") {
		err = errors.New("the credential source gave no AccessKey")
	}
	if err != nil {
		return creds, &Error{Code: CodeCredentials, Class: ClassCredential, Message: c.redact("no credentials: " + err.Error())}
	}
	c.secretsMu.Lock()
	for _, s := range []string{creds.AccessKeySecret, creds.SecurityToken, creds.AccessKeyID} {
		if s != "" && !slices.Contains(c.secrets, s) {
			c.secrets = append(c.secrets, s)
		}
	}
	c.secretsMu.Unlock()
	return creds, nil
}

func (c *Client) sdkConfig(ctx context.Context, scheme string, capture *pageCapture) (*sdk.Config, credentials.CredentialsProvider, error) {
	creds, err := c.credentials()
	if err != nil {
		return nil, nil, err
	}
	sdkReady.Do(primeSDK)
	conf := sdk.NewConfig()
	conf.Scheme = scheme
	conf.AutoRetry = false // the sweep retries with backoff, keeping the ClientToken
	// A non-*http.Transport keeps the SDK from mutating the shared transport.
	conf.Transport = contextTransport{ctx: ctx, base: c.transport, capture: capture, clock: c.clock}
	var provider credentials.CredentialsProvider
	if creds.SecurityToken != "" {
		provider = credentials.NewStaticSTSCredentialsProvider(creds.AccessKeyID, creds.AccessKeySecret, creds.SecurityToken)
	} else {
		provider = credentials.NewStaticAKCredentialsProvider(creds.AccessKeyID, creds.AccessKeySecret)
	}
	return conf, provider, nil
}

// vpcClient is sdkClient for the VPC API (EIPs).
func (c *Client) vpcClient(ctx context.Context, region string) (*vpc.Client, error) {
	conf, provider, err := c.sdkConfig(ctx, c.vpcScheme, nil)
	if err != nil {
		return nil, err
	}
	client, err := vpc.NewClientWithOptions(region, conf, provider)
	if err != nil {
		return nil, fmt.Errorf("vpc client for region %q: %w", region, err)
	}
	if c.vpcDomain != "" {
		client.Domain = c.vpcDomain
	}
	return client, nil
}

func (c *Client) sdkClient(ctx context.Context, region string, capture *pageCapture) (*ecs.Client, error) {
	conf, provider, err := c.sdkConfig(ctx, c.scheme, capture)
	if err != nil {
		return nil, err
	}
	client, err := ecs.NewClientWithOptions(region, conf, provider)
	if err != nil {
		return nil, fmt.Errorf("ecs client for region %q: %w", region, err)
	}
	if c.domain != "" {
		client.Domain = c.domain
	}
	return client, nil
}

// readTimeouts are the per-action read timeouts. DescribeInstances and
// DescribeRegions follow the SDK's own table (sdk/api_timeout.go: 10 s and
// 19 s). DeleteInstances has no entry there, so the SDK would give it the
// 10 s default, under which a 100-ID release can time out while ECS is
// still working and burn retries: it gets DeleteInstance's 66 s, the
// table's figure for releasing one instance. ListTagResources has no entry
// either and reads tags only: the 10 s default.
var readTimeouts = map[string]time.Duration{
	ActionDescribeRegions:   19 * time.Second,
	ActionDescribeInstances: 10 * time.Second,
	ActionListTagResources:  10 * time.Second,
	ActionDeleteInstances:   66 * time.Second,
	// Neither is in the SDK's table: TagResources writes tags only (the 10
	// s default); StopInstances gets StopInstance's 27 s, as
	// DeleteInstances gets DeleteInstance's.
	ActionTagResources:  10 * time.Second,
	ActionStopInstances: 27 * time.Second,
	// The SDK's table: DescribeDisks 19 s, DescribeSnapshots 26 s,
	// DeleteDisk 16 s, DeleteSnapshot 17 s. The VPC API has no table in
	// the SDK: its calls get the 10 s default.
	ActionDescribeDisks:        19 * time.Second,
	ActionDescribeSnapshots:    26 * time.Second,
	ActionDeleteDisk:           16 * time.Second,
	ActionDeleteSnapshot:       17 * time.Second,
	ActionDescribeEipAddresses: 10 * time.Second,
	ActionReleaseEipAddress:    10 * time.Second,
}

// defaultReadTimeout is the SDK's own default for actions not in the table.
const defaultReadTimeout = 10 * time.Second

// ReadTimeout is the read timeout of one call of action, before the
// deadline clips it.
func ReadTimeout(action string) time.Duration {
	if d, ok := readTimeouts[action]; ok {
		return d
	}
	return defaultReadTimeout
}

// prepare bounds the request by the action's read timeout and the time
// left in ctx.
func (c *Client) prepare(ctx context.Context, action string, req requests.AcsRequest) error {
	return c.prepareFor(ctx, action, req, c.scheme)
}

func (c *Client) prepareFor(ctx context.Context, action string, req requests.AcsRequest, scheme string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	timeout := ReadTimeout(action)
	if c.readTimeout > 0 {
		timeout = c.readTimeout
	}
	if deadline, ok := ctx.Deadline(); ok {
		left := time.Until(deadline)
		if left <= 0 {
			return context.DeadlineExceeded
		}
		// The context ends the call at the deadline; the SDK timeout gets
		// a little slack so that a deadline is reported as one.
		timeout = min(timeout, left+100*time.Millisecond)
	}
	req.SetReadTimeout(timeout)
	req.SetConnectTimeout(min(c.connectTimeout, timeout))
	req.SetScheme(scheme)
	return nil
}

// DescribeRegions lists the regions ECS offers to the account.
func (c *Client) DescribeRegions(ctx context.Context) (Regions, error) {
	const action = ActionDescribeRegions
	client, err := c.sdkClient(ctx, "cn-hangzhou", nil)
	if err != nil {
		return Regions{}, err
	}
	req := ecs.CreateDescribeRegionsRequest()
	if err := c.prepare(ctx, action, req); err != nil {
		return Regions{}, c.wrap(ctx, action, "", err)
	}
	resp, err := guard(action, "", func() (*ecs.DescribeRegionsResponse, error) { return client.DescribeRegions(req) })
	if err != nil {
		return Regions{}, c.wrap(ctx, action, "", err)
	}
	if resp.RequestId == "" {
		return Regions{}, malformed(action, "", "no RequestId")
	}
	out := Regions{RequestID: resp.RequestId}
	for _, r := range resp.Regions.Region {
		if r.RegionId == "" {
			return Regions{}, malformed(action, "", "a region without RegionId")
		}
		out.RegionIDs = append(out.RegionIDs, r.RegionId)
	}
	if len(out.RegionIDs) == 0 {
		return Regions{}, malformed(action, "", "no regions")
	}
	return out, nil
}

// DescribeInstances returns one page of instances. A fresh SDK request is
// built for every call: the SDK never clears old parameters.
func (c *Client) DescribeInstances(ctx context.Context, in DescribeInput) (DescribePage, error) {
	const action = ActionDescribeInstances
	capture := &pageCapture{}
	client, err := c.sdkClient(ctx, in.Region, capture)
	if err != nil {
		return DescribePage{}, err
	}
	req := ecs.CreateDescribeInstancesRequest()
	req.RegionId = in.Region
	if in.TagKey != "" {
		req.Tag = &[]ecs.DescribeInstancesTag{{Key: in.TagKey}}
	}
	if len(in.InstanceIDs) > 0 {
		if len(in.InstanceIDs) > MaxDescribeIDs {
			return DescribePage{}, fmt.Errorf("describe instances in %s: %d IDs, at most %d", in.Region, len(in.InstanceIDs), MaxDescribeIDs)
		}
		ids, _ := json.Marshal(in.InstanceIDs) // []string always marshals
		req.InstanceIds = string(ids)
	}
	byNumber := in.PageNumber > 0
	if byNumber {
		if in.NextToken != "" || in.MaxResults > 0 {
			return DescribePage{}, fmt.Errorf("describe instances in %s: PageNumber with NextToken or MaxResults, under which TotalCount is invalid", in.Region)
		}
		req.PageNumber = requests.NewInteger(in.PageNumber)
		req.PageSize = requests.NewInteger(clampPage(in.PageSize))
	} else {
		req.MaxResults = requests.NewInteger(clampPage(in.MaxResults))
		req.NextToken = in.NextToken
	}
	if in.DryRun {
		req.DryRun = requests.NewBoolean(true)
	}
	if err := c.prepare(ctx, action, req); err != nil {
		return DescribePage{}, c.wrap(ctx, action, in.Region, err)
	}
	_, err = guard(action, in.Region, func() (struct{}, error) { return struct{}{}, client.DoAction(req, &responses.BaseResponse{}) })
	if err != nil {
		wrapped := c.wrap(ctx, action, in.Region, err)
		var apiErr *Error
		if in.DryRun && errors.As(wrapped, &apiErr) && apiErr.Class == ClassDryRunPassed {
			return DescribePage{RequestID: apiErr.RequestID}, nil
		}
		return DescribePage{}, wrapped
	}
	resp := &capture.body
	switch {
	case !capture.read:
		return DescribePage{}, malformed(action, in.Region, "the answer was not read")
	case capture.err != nil:
		return DescribePage{}, malformed(action, in.Region, "not the expected JSON")
	case in.DryRun:
		// ECS answers DryRunOperation; an endpoint that lists instead has
		// still authorised the call, which is all the dry run asks.
		return DescribePage{RequestID: resp.RequestId}, nil
	}
	if resp.RequestId == "" {
		// An empty 200 body decodes to an empty, final page: never take it
		// as a complete listing.
		return DescribePage{}, malformed(action, in.Region, "no RequestId")
	}
	page := DescribePage{NextToken: resp.NextToken, RequestID: resp.RequestId}
	if byNumber {
		switch {
		case resp.TotalCount == nil || *resp.TotalCount < 0:
			return DescribePage{}, malformed(action, in.Region, "a PageNumber page without a valid TotalCount")
		case resp.PageNumber != nil && *resp.PageNumber != in.PageNumber:
			return DescribePage{}, malformed(action, in.Region, fmt.Sprintf("page %d answered as page %d", in.PageNumber, *resp.PageNumber))
		case len(resp.Instances.Instance) > clampPage(in.PageSize):
			return DescribePage{}, malformed(action, in.Region, "a page larger than its PageSize")
		}
		page.TotalCount = *resp.TotalCount
	}
	page.Instances = make([]cloud.Instance, 0, len(resp.Instances.Instance))
	for i := range resp.Instances.Instance {
		page.Instances = append(page.Instances, resp.Instances.Instance[i].instance(in.TagKeys))
	}
	return page, nil
}

// clampPage is the page size sent: MaxPageSize when unset or too large.
func clampPage(n int) int {
	if n <= 0 || n > MaxPageSize {
		return MaxPageSize
	}
	return n
}

// describeInstancesBody is the part of the DescribeInstances answer the
// rules read. The SDK decodes into it like into its own response type, but
// skips the other hundred fields of ecs.Instance, which costs most of a
// sweep's CPU and allocations at scale.
type describeInstancesBody struct {
	RequestId string
	NextToken string
	// Pointers: a PageNumber answer without them is not trusted.
	TotalCount *int
	PageNumber *int
	Instances  struct {
		Instance []listedInstance
	}
}

// listedInstance holds its safety fields as pointers: the SDK's own type
// reads a missing or null DeletionProtection as false and missing
// OperationLocks as "no lock", both of which would permit a release.
type listedInstance struct {
	InstanceId         string
	InstanceName       string
	RegionId           string
	Status             string
	InstanceChargeType string
	ExpiredTime        string
	CreationTime       string
	DeletionProtection *bool
	OperationLocks     *struct {
		LockReason []struct {
			LockReason string
		}
	}
	Tags struct {
		Tag []struct {
			TagKey   string
			TagValue string
		}
	}
}

// instance converts the answer for the rules, keeping only tagKeys (all tags
// when nil). An instance missing a safety field carries a Problem, so the
// rules skip it as invalid data.
func (src *listedInstance) instance(tagKeys []string) cloud.Instance {
	inst := cloud.Instance{
		ID:           src.InstanceId,
		Name:         src.InstanceName,
		Region:       src.RegionId,
		Status:       src.Status,
		ChargeType:   src.InstanceChargeType,
		ExpiredTime:  src.ExpiredTime,
		CreationTime: src.CreationTime,
	}
	// A missing RegionId stays missing: the sweep does not trust an answer
	// that does not say which region it describes.
	if src.DeletionProtection == nil {
		inst.Problem = "the API's answer has no DeletionProtection"
	} else {
		inst.DeletionProtection = *src.DeletionProtection
	}
	if src.OperationLocks == nil {
		inst.Problem = "the API's answer has no OperationLocks"
	} else {
		for _, l := range src.OperationLocks.LockReason {
			inst.LockReasons = append(inst.LockReasons, l.LockReason)
		}
	}
	for _, t := range src.Tags.Tag {
		if tagKeys != nil && !slices.Contains(tagKeys, t.TagKey) {
			continue
		}
		if inst.Tags == nil {
			inst.Tags = make(map[string]string, 2)
		}
		inst.Tags[t.TagKey] = t.TagValue
	}
	return inst
}

// ListTagResources returns one page of instance IDs carrying the tag key.
func (c *Client) ListTagResources(ctx context.Context, in ListTagInput) (TagPage, error) {
	const action = ActionListTagResources
	client, err := c.sdkClient(ctx, in.Region, nil)
	if err != nil {
		return TagPage{}, err
	}
	req := ecs.CreateListTagResourcesRequest()
	req.RegionId = in.Region
	req.ResourceType = "instance"
	req.Tag = &[]ecs.ListTagResourcesTag{{Key: in.TagKey}}
	req.NextToken = in.NextToken
	if err := c.prepare(ctx, action, req); err != nil {
		return TagPage{}, c.wrap(ctx, action, in.Region, err)
	}
	resp, err := guard(action, in.Region, func() (*ecs.ListTagResourcesResponse, error) { return client.ListTagResources(req) })
	if err != nil {
		return TagPage{}, c.wrap(ctx, action, in.Region, err)
	}
	if resp.RequestId == "" {
		return TagPage{}, malformed(action, in.Region, "no RequestId")
	}
	page := TagPage{NextToken: resp.NextToken, RequestID: resp.RequestId}
	for _, r := range resp.TagResources.TagResource {
		if r.ResourceType != "" && r.ResourceType != "instance" {
			continue
		}
		if r.ResourceId == "" {
			return TagPage{}, malformed(action, in.Region, "a tag resource without ResourceId")
		}
		if r.TagKey != "" && r.TagKey != in.TagKey {
			continue
		}
		page.InstanceIDs = append(page.InstanceIDs, r.ResourceId)
	}
	return page, nil
}

// DeleteInstances sends one DeleteInstances call. ForceStop is absent from
// the v1.63.107 request struct, so it is added as a query parameter (signed
// like the others).
func (c *Client) DeleteInstances(ctx context.Context, in DeleteInput) (DeleteOutput, error) {
	const action = ActionDeleteInstances
	if n := len(in.InstanceIDs); n == 0 || n > MaxDeleteIDs {
		return DeleteOutput{}, fmt.Errorf("delete instances in %s: %d IDs, want 1..%d", in.Region, n, MaxDeleteIDs)
	}
	if len(in.ClientToken) > 64 {
		return DeleteOutput{}, fmt.Errorf("delete instances in %s: client token longer than 64 characters", in.Region)
	}
	client, err := c.sdkClient(ctx, in.Region, nil)
	if err != nil {
		return DeleteOutput{}, err
	}
	req := ecs.CreateDeleteInstancesRequest()
	req.RegionId = in.Region
	ids := append([]string(nil), in.InstanceIDs...)
	req.InstanceId = &ids
	req.ClientToken = in.ClientToken
	req.TerminateSubscription = requests.NewBoolean(in.TerminateSubscription)
	req.Force = requests.NewBoolean(in.Force)
	req.DryRun = requests.NewBoolean(in.DryRun)
	if in.Force {
		req.QueryParams["ForceStop"] = fmt.Sprint(in.ForceStop)
	}
	if err := c.prepare(ctx, action, req); err != nil {
		return DeleteOutput{}, c.wrap(ctx, action, in.Region, err)
	}
	resp, err := guard(action, in.Region, func() (*ecs.DeleteInstancesResponse, error) { return client.DeleteInstances(req) })
	if err != nil {
		wrapped := c.wrap(ctx, action, in.Region, err)
		var apiErr *Error
		if in.DryRun && errors.As(wrapped, &apiErr) && apiErr.Class == ClassDryRunPassed {
			return DeleteOutput{RequestID: apiErr.RequestID, DryRunPassed: true}, nil
		}
		return DeleteOutput{}, wrapped
	}
	if in.DryRun {
		// A dry run must never answer 2xx; if it did, the API may have
		// released the batch. Report it loudly rather than as a pass.
		return DeleteOutput{RequestID: resp.RequestId}, &Error{Action: action, Region: in.Region, Code: "DryRun.Unexpected2xx",
			Message: "a dry run answered success instead of DRYRUN.SUCCESS", RequestID: resp.RequestId, Class: ClassFatal}
	}
	if resp.RequestId == "" {
		return DeleteOutput{}, malformed(action, in.Region, "no RequestId")
	}
	return DeleteOutput{RequestID: resp.RequestId}, nil
}

// guard runs one SDK call and turns a panic inside the SDK into a
// malformed-response error: SDK v1.63.107 panics parsing an error body whose
// Code, Message or RequestId is not a string.
func guard[T any](action, region string, call func() (T, error)) (resp T, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			resp, err = zero, malformed(action, region, "the SDK could not parse the answer")
		}
	}()
	return call()
}

func malformed(action, region, what string) *Error {
	return &Error{Action: action, Region: region, Code: CodeBadResponse, Message: "malformed response: " + what, Class: ClassRetryable}
}

const maxMessageLen = 300

// wrap turns an SDK or transport error into an *Error without any text that
// could carry credentials: SDK errors are rebuilt from their fields, and
// transport errors lose their URL (it holds the signed query).
func (c *Client) wrap(ctx context.Context, action, region string, err error) error {
	out := &Error{Action: action, Region: region}
	var serverErr *sdkerrors.ServerError
	var clientErr *sdkerrors.ClientError
	var urlErr *url.Error
	switch {
	case errors.As(err, &out):
		return out // already classified (a recovered SDK panic)
	case ctx.Err() != nil:
		// Only the caller's context means the invocation ended. The HTTP
		// client's own read timeout also wraps context.DeadlineExceeded,
		// but it is an ordinary, retryable timeout (below).
		out.Code, out.Message, out.Class = CodeCanceled, "the invocation deadline or cancellation ended the call", ClassCanceled
		out.cause = context.Cause(ctx)
		if out.cause == nil {
			out.cause = context.DeadlineExceeded
		}
		return out
	case errors.As(err, &serverErr):
		out.Code = serverErr.ErrorCode()
		out.HTTPStatus = serverErr.HttpStatus()
		out.RequestID = serverErr.RequestId()
		out.Message = serverErr.Message()
		if out.Code == "" {
			out.Code = fmt.Sprintf("HTTP.%d", out.HTTPStatus)
			out.Message = "response without an error code"
		}
	case errors.As(err, &urlErr):
		out.Code, out.Message = CodeTransport, urlErr.Op+" "+redactURL(urlErr.URL)+": "+sanitiseTransport(urlErr.Err)
		if urlErr.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			out.Code = CodeTimeout
		}
	case errors.As(err, &clientErr):
		switch clientErr.ErrorCode() {
		case sdkerrors.JsonUnmarshalErrorCode:
			out.Code, out.Message = CodeBadResponse, "malformed response: not the expected JSON"
		case sdkerrors.TimeoutErrorCode:
			out.Code, out.Message = CodeTimeout, "call timed out"
		default:
			out.Code, out.Message = "SDK."+clientErr.ErrorCode(), "the SDK could not make the call"
		}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		out.Code, out.Message = CodeTimeout, "call timed out"
	default:
		out.Code, out.Message = "SDK.Error", "the SDK could not make the call"
	}
	// Classify on the code as the server sent it, then redact every
	// string the error carries: any of them may echo the request.
	out.Class = ClassifyCode(out.Code, out.HTTPStatus)
	out.Code = c.redact(out.Code)
	out.RequestID = c.redact(out.RequestID)
	out.Message = c.redact(out.Message)
	return out
}

func sanitiseTransport(err error) string {
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return "timeout"
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return opErr.Op + ": " + opErr.Err.Error()
	}
	if err == nil {
		return "unknown"
	}
	return err.Error()
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<url>"
	}
	return u.Scheme + "://" + u.Host + "/"
}

// redact removes credential material from server messages (a real
// SignatureDoesNotMatch message echoes the string to sign) and the MAC of
// any mark one quotes from the tags it was sent, and keeps them short.
func (c *Client) redact(msg string) string {
	c.secretsMu.Lock()
	secrets := append([]string{c.creds.AccessKeySecret, c.creds.SecurityToken, c.creds.AccessKeyID}, c.secrets...)
	c.secretsMu.Unlock()
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		msg = strings.ReplaceAll(msg, secret, "<redacted>")
		msg = strings.ReplaceAll(msg, url.QueryEscape(secret), "<redacted>")
		msg = strings.ReplaceAll(msg, url.QueryEscape(url.QueryEscape(secret)), "<redacted>")
	}
	if i := strings.Index(msg, "string to sign"); i >= 0 {
		msg = msg[:i] + "string to sign: <redacted>"
	}
	msg = mark.Redact(msg)
	msg = strings.ToValidUTF8(msg, "")
	if len(msg) > maxMessageLen {
		msg = msg[:maxMessageLen] + "…"
	}
	return msg
}

// UsesHTTPS reports whether calls go over HTTPS (always, unless an
// http:// endpoint override says otherwise).
func (c *Client) UsesHTTPS() bool { return c.scheme == "HTTPS" }

// TagResources writes tags on instances. The SDK request has no RegionId
// field: the client's region is signed in.
func (c *Client) TagResources(ctx context.Context, in TagInput) (TagOutput, error) {
	const action = ActionTagResources
	if n := len(in.InstanceIDs); n == 0 || n > MaxTagIDs {
		return TagOutput{}, fmt.Errorf("tag resources in %s: %d IDs, want 1..%d", in.Region, n, MaxTagIDs)
	}
	if len(in.Tags) == 0 {
		return TagOutput{}, fmt.Errorf("tag resources in %s: no tags", in.Region)
	}
	client, err := c.sdkClient(ctx, in.Region, nil)
	if err != nil {
		return TagOutput{}, err
	}
	req := ecs.CreateTagResourcesRequest()
	req.RegionId = in.Region
	req.ResourceType = "instance"
	if in.ResourceType != "" {
		req.ResourceType = in.ResourceType
	}
	ids := append([]string(nil), in.InstanceIDs...)
	req.ResourceId = &ids
	keys := make([]string, 0, len(in.Tags))
	for k := range in.Tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	tags := make([]ecs.TagResourcesTag, 0, len(keys))
	for _, k := range keys {
		tags = append(tags, ecs.TagResourcesTag{Key: k, Value: in.Tags[k]})
	}
	req.Tag = &tags
	if err := c.prepare(ctx, action, req); err != nil {
		return TagOutput{}, c.wrap(ctx, action, in.Region, err)
	}
	resp, err := guard(action, in.Region, func() (*ecs.TagResourcesResponse, error) { return client.TagResources(req) })
	if err != nil {
		return TagOutput{}, c.wrap(ctx, action, in.Region, err)
	}
	if resp.RequestId == "" {
		return TagOutput{}, malformed(action, in.Region, "no RequestId")
	}
	return TagOutput{RequestID: resp.RequestId}, nil
}

// StopInstances stops instances, all together: one it cannot stop fails
// the call. An instance whose own result is not Code 200 fails it too.
func (c *Client) StopInstances(ctx context.Context, in StopInput) (StopOutput, error) {
	const action = ActionStopInstances
	if n := len(in.InstanceIDs); n == 0 || n > MaxStopIDs {
		return StopOutput{}, fmt.Errorf("stop instances in %s: %d IDs, want 1..%d", in.Region, n, MaxStopIDs)
	}
	client, err := c.sdkClient(ctx, in.Region, nil)
	if err != nil {
		return StopOutput{}, err
	}
	req := ecs.CreateStopInstancesRequest()
	req.RegionId = in.Region
	ids := append([]string(nil), in.InstanceIDs...)
	req.InstanceId = &ids
	req.ForceStop = requests.NewBoolean(in.ForceStop)
	req.StoppedMode = in.StoppedMode
	req.BatchOptimization = "AllTogether"
	req.DryRun = requests.NewBoolean(in.DryRun)
	if err := c.prepare(ctx, action, req); err != nil {
		return StopOutput{}, c.wrap(ctx, action, in.Region, err)
	}
	resp, err := guard(action, in.Region, func() (*ecs.StopInstancesResponse, error) { return client.StopInstances(req) })
	if err != nil {
		wrapped := c.wrap(ctx, action, in.Region, err)
		var apiErr *Error
		if in.DryRun && errors.As(wrapped, &apiErr) && apiErr.Class == ClassDryRunPassed {
			return StopOutput{RequestID: apiErr.RequestID, DryRunPassed: true}, nil
		}
		return StopOutput{}, wrapped
	}
	if in.DryRun {
		return StopOutput{RequestID: resp.RequestId}, &Error{Action: action, Region: in.Region, Code: "DryRun.Unexpected2xx",
			Message: "a dry run answered success instead of DRYRUN.SUCCESS", RequestID: resp.RequestId, Class: ClassFatal}
	}
	if resp.RequestId == "" {
		return StopOutput{}, malformed(action, in.Region, "no RequestId")
	}
	for _, r := range resp.InstanceResponses.InstanceResponse {
		if r.Code != "" && r.Code != "200" {
			code := c.redact(r.Code)
			return StopOutput{}, &Error{Action: action, Region: in.Region, Code: code, Message: c.redact(r.InstanceId + ": " + r.Message),
				RequestID: resp.RequestId, Class: ClassifyCode(r.Code, 0)}
		}
	}
	return StopOutput{RequestID: resp.RequestId}, nil
}
