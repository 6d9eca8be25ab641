package fanout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/fnf"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// MaxFlowAccounts bounds the accounts of one execution. CloudFlow allows
// 5,000 events per execution; an account costs about 10 (an iteration and
// a task in Plan and in Execute, each scheduled, started and ended) plus
// its retries, so 400 accounts leave room for every retry the flow
// allows. (The events one iteration records are not documented: an
// estimate, kept well inside the limit.) The execution's input, about 30
// bytes an account, stays far below a state's 64 KiB.
const MaxFlowAccounts = 400

// Manifest is the run's accounts, written once by the first tick that
// starts the run; a repeated tick reads it and starts the same execution
// with the same input.
type Manifest struct {
	Run      RunID    `json:"run"`
	Accounts []string `json:"accounts"`
	// Skipped are the accounts the selection left out, and why: the
	// organisation's report lists them.
	Skipped []report.SkippedAccount `json:"skipped,omitempty"`
}

// Item is one element of a Map's list: the account a worker sweeps.
type Item struct {
	Account string `json:"account"`
}

// ExecutionInput is the flow's input: the run and its accounts.
type ExecutionInput struct {
	Run      RunID  `json:"run"`
	Accounts []Item `json:"accounts"`
}

// StartOutcome says what a start did.
type StartOutcome string

// Outcomes of a start. Neither of the last two starts anything new.
const (
	// Started: the execution runs, started by this call or, when the same
	// name was already running, by an earlier tick (CloudFlow answers both
	// with the running execution).
	Started StartOutcome = "started"
	// AlreadyFinished: an execution of this run finished before; CloudFlow
	// refused the name (ExecutionAlreadyExists).
	AlreadyFinished StartOutcome = "already-finished"
)

// StarterConfig says which flow the coordinator starts, and how.
type StarterConfig struct {
	FlowName    string // REAPER_FLOW_NAME
	Region      string // the flow's region (the function's own)
	Endpoint    string // REAPER_FNF_ENDPOINT; "" = the SDK's for the region
	Credentials func() (ecsapi.Credentials, error)
}

// Starter starts the fan-out's executions through the SDK's fnf client.
type Starter struct{ cfg StarterConfig }

// NewStarter checks the configuration; the endpoint follows the ECS
// endpoint's rules (cloud.ParseEndpoint).
func NewStarter(cfg StarterConfig) (*Starter, error) {
	if cfg.FlowName == "" || cfg.Region == "" || cfg.Credentials == nil {
		return nil, errors.New("flow start: the flow's name, its region and credentials are required")
	}
	if cfg.Endpoint != "" {
		if _, _, err := cloud.ParseEndpoint(cfg.Endpoint); err != nil {
			return nil, fmt.Errorf("flow start: the CloudFlow endpoint %s %w", cloud.RedactEndpoint(cfg.Endpoint), err)
		}
	}
	return &Starter{cfg: cfg}, nil
}

// Start starts the run's execution, named from the run: a tick that finds
// it running or finished starts nothing new.
func (s *Starter) Start(ctx context.Context, run RunID, accounts []string) (StartOutcome, error) {
	if err := run.Validate(); err != nil {
		return "", fmt.Errorf("flow start: %w", err)
	}
	if len(accounts) == 0 || len(accounts) > MaxFlowAccounts {
		return "", fmt.Errorf("flow start: %d accounts; one execution takes 1 to %d (CloudFlow's 5,000 events per execution)", len(accounts), MaxFlowAccounts)
	}
	in := ExecutionInput{Run: run, Accounts: make([]Item, len(accounts))}
	for i, a := range accounts {
		if !ValidAccountID(a) {
			return "", fmt.Errorf("flow start: %s is not an account ID", quote(a))
		}
		in.Accounts[i] = Item{Account: a}
	}
	input, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	client, err := s.client(ctx)
	if err != nil {
		return "", err
	}
	req := fnf.CreateStartExecutionRequest()
	req.FlowName = s.cfg.FlowName
	req.ExecutionName = run.ExecutionName()
	req.Input = string(input)
	// The SDK's table names <region>.fnf.aliyuncs.com for four regions and
	// would look the others up: the same pattern, set for every region.
	req.SetScheme("HTTPS")
	req.Domain = s.cfg.Region + ".fnf.aliyuncs.com"
	if scheme, host, err := cloud.ParseEndpoint(s.cfg.Endpoint); err == nil && s.cfg.Endpoint != "" {
		req.SetScheme(scheme)
		req.Domain = host
	}
	if _, err := client.StartExecution(req); err != nil {
		e := startError(run.ExecutionName(), err)
		if ecsapi.Classify(e) == ecsapi.ClassAlreadyExists {
			return AlreadyFinished, nil
		}
		return "", e
	}
	return Started, nil
}

func (s *Starter) client(ctx context.Context) (*fnf.Client, error) {
	c, err := s.cfg.Credentials()
	if err != nil {
		return nil, fmt.Errorf("flow start: no credentials: %w", err)
	}
	conf := sdk.NewConfig()
	conf.AutoRetry = false
	conf.Timeout = 30 * time.Second
	conf.Transport = ctxTransport{ctx: ctx}
	var provider credentials.CredentialsProvider
	if c.SecurityToken != "" {
		provider = credentials.NewStaticSTSCredentialsProvider(c.AccessKeyID, c.AccessKeySecret, c.SecurityToken)
	} else {
		provider = credentials.NewStaticAKCredentialsProvider(c.AccessKeyID, c.AccessKeySecret)
	}
	client, err := fnf.NewClientWithOptions(s.cfg.Region, conf, provider)
	if err != nil {
		return nil, fmt.Errorf("flow start: fnf client for %s: %w", s.cfg.Region, err)
	}
	return client, nil
}

// ctxTransport ties the SDK's requests to the caller's context (a
// non-*http.Transport keeps the SDK from changing a shared one).
type ctxTransport struct{ ctx context.Context }

func (t ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return http.DefaultTransport.RoundTrip(r.WithContext(t.ctx))
}

// startError classifies a failed StartExecution by its code; the SDK's own
// text is never shown (it can carry the signed request).
func startError(name string, err error) error {
	e := &ecsapi.Error{Action: "fnf StartExecution", Code: ecsapi.CodeTransport, Message: "execution " + name}
	var se *sdkerrors.ServerError
	switch {
	case errors.As(err, &se):
		e.Code, e.HTTPStatus, e.RequestID = se.ErrorCode(), se.HttpStatus(), se.RequestId()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e.Code = ecsapi.CodeCanceled
	}
	e.Class = ecsapi.ClassifyCode(e.Code, e.HTTPStatus)
	return e
}

// Coordinate is the timer function's part in flow mode: it records the
// run's accounts once (a repeated tick keeps the first tick's list) and
// starts the run's execution with them. Nothing is started twice for one
// run.
func Coordinate(ctx context.Context, store *Store, starter *Starter, run RunID, accounts []string, skipped ...report.SkippedAccount) (StartOutcome, Manifest, error) {
	m := Manifest{Run: run, Accounts: slices.Clone(accounts), Skipped: skipped}
	slices.Sort(m.Accounts)
	m.Accounts = slices.Compact(m.Accounts)
	created, err := store.PutOnce(ctx, run, OrgAccount, DocManifest, m)
	if err != nil {
		return "", m, fmt.Errorf("coordinator: record the run's accounts: %w", err)
	}
	if !created {
		var first Manifest
		found, err := store.Get(ctx, run, OrgAccount, DocManifest, &first)
		switch {
		case err != nil:
			return "", m, fmt.Errorf("coordinator: read the run's accounts recorded by an earlier tick: %w", err)
		case !found || first.Run != run:
			return "", m, fmt.Errorf("coordinator: the run's accounts recorded by an earlier tick are missing or name run %s", quote(string(first.Run)))
		}
		m = first
	}
	outcome, err := starter.Start(ctx, run, m.Accounts)
	return outcome, m, err
}
