package org

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/pause"
)

// The role settings, as the function's environment names them.
const (
	EnvRoleName       = "REAPER_ROLE_NAME"
	EnvRoleExternalID = "REAPER_ROLE_EXTERNAL_ID"
)

// Defaults of the role assumption.
const (
	DefaultRoleName = "ecs-reaper-member"
	// DefaultAssumePerSecond paces AssumeRole at a fifth of STS's 100/s
	// quota, which the caller's account shares with its other users.
	DefaultAssumePerSecond = 20
	// DefaultDuration is the credentials' lifetime asked for: the least a
	// role allows (its MaxSessionDuration is at least 3600 s).
	DefaultDuration = time.Hour
	// RefreshBefore: credentials this close to their expiry are renewed
	// before the next call (the longest call, DeleteInstances, reads 66 s).
	RefreshBefore = 5 * time.Minute
	// RenewGap is the least time between two renewals of one account's
	// credentials: credentials that look close to expiry right after they
	// were issued (a skewed clock) or a renewal that keeps failing never
	// make every call of the account an AssumeRole.
	RenewGap = time.Minute
	// DefaultAttempts is how many times a throttled or failing AssumeRole
	// is tried before the account is unreachable.
	DefaultAttempts = 5
	// Tool begins every session name: the member's ActionTrail shows it.
	Tool = "ecs-reaper"
)

// AssumeAPI is the STS call (*ecsapi.Client).
type AssumeAPI interface {
	AssumeRole(ctx context.Context, in ecsapi.AssumeRoleInput) (ecsapi.AssumeRoleOutput, error)
}

// RoleConfig says which role to assume and how.
type RoleConfig struct {
	RoleName   string // "" is DefaultRoleName
	ExternalID string // "" sends none
	// RunID names the run in the session name (e.g. the invocation's
	// request ID); any text, made to fit.
	RunID string
	// Actions the session policy grants; nil is kinds.RAMActions().
	Actions   []string
	Duration  time.Duration // 0 is DefaultDuration
	PerSecond float64       // 0 is DefaultAssumePerSecond
	Attempts  int           // 0 is DefaultAttempts
	// Backoff is the first wait before a retry, doubled each time; 0 is 500ms.
	Backoff time.Duration
	Clock   func() time.Time // nil is time.Now
}

// Assumer assumes the member role in each account. It is safe for
// concurrent use.
type Assumer struct {
	api         AssumeAPI
	cfg         RoleConfig
	policy      string
	sessionName string

	paceMu sync.Mutex
	next   time.Time // the earliest the next AssumeRole may start
}

// NewAssumer checks cfg and builds the session policy once.
func NewAssumer(api AssumeAPI, cfg RoleConfig) (*Assumer, error) {
	if cfg.RoleName == "" {
		cfg.RoleName = DefaultRoleName
	}
	if problem := CheckRoleName(cfg.RoleName); problem != "" {
		return nil, fmt.Errorf("%s: %s", EnvRoleName, problem)
	}
	if cfg.ExternalID != "" {
		if problem := CheckExternalID(cfg.ExternalID); problem != "" {
			return nil, fmt.Errorf("%s: %s", EnvRoleExternalID, problem)
		}
	}
	if cfg.Actions == nil {
		cfg.Actions = kinds.RAMActions()
	}
	policy, err := SessionPolicy(cfg.Actions)
	if err != nil {
		return nil, err
	}
	if cfg.Duration == 0 {
		cfg.Duration = DefaultDuration
	}
	if cfg.Duration < 15*time.Minute || cfg.Duration > 12*time.Hour {
		return nil, fmt.Errorf("role session duration %v: STS allows 15m to 12h", cfg.Duration)
	}
	if cfg.PerSecond <= 0 {
		cfg.PerSecond = DefaultAssumePerSecond
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = DefaultAttempts
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Assumer{api: api, cfg: cfg, policy: policy, sessionName: SessionName(cfg.RunID)}, nil
}

// Policy is the session policy every AssumeRole sends.
func (a *Assumer) Policy() string { return a.policy }

// SessionName is the session name every AssumeRole sends.
func (a *Assumer) SessionName() string { return a.sessionName }

// UnreachableError is an account whose role could not be assumed.
type UnreachableError struct {
	Account string
	RoleARN string
	// Reason is a word from ecsapi.UnreachableReason: denied, role-missing,
	// throttled, unavailable, refused or deadline.
	Reason string
	Code   string // the API's error code
	Err    error  // an *ecsapi.Error: code and redacted message
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("account %s unreachable (%s): assuming %s: %v", e.Account, e.Reason, e.RoleARN, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Assume assumes the role in account now, and returns its credentials as a
// Session that renews them before they expire (under ctx, which should be
// the run's). Its error is an *UnreachableError.
func (a *Assumer) Assume(ctx context.Context, account string) (*Session, error) {
	if !ecsapi.ValidAccountID(account) {
		return nil, fmt.Errorf("assume role: %q is not an account ID", account)
	}
	s := &Session{assumer: a, account: account, ctx: ctx}
	if err := s.renew(); err != nil {
		return nil, err
	}
	return s, nil
}

// call is one AssumeRole with pacing and retries.
func (a *Assumer) call(ctx context.Context, account string) (ecsapi.AssumeRoleOutput, error) {
	in := ecsapi.AssumeRoleInput{RoleARN: ecsapi.RoleARN(account, a.cfg.RoleName), SessionName: a.sessionName,
		Policy: a.policy, ExternalID: a.cfg.ExternalID, Duration: a.cfg.Duration}
	wait := a.cfg.Backoff
	var err error
	for attempt := 1; ; attempt++ {
		if err = a.pace(ctx); err != nil {
			break
		}
		var out ecsapi.AssumeRoleOutput
		out, err = a.api.AssumeRole(ctx, in)
		if err == nil {
			return out, nil
		}
		class := ecsapi.Classify(err)
		if attempt >= a.cfg.Attempts || (class != ecsapi.ClassThrottled && class != ecsapi.ClassRetryable) {
			break
		}
		if pause.For(ctx, wait) != nil {
			break
		}
		wait *= 2
	}
	return ecsapi.AssumeRoleOutput{}, &UnreachableError{Account: account, RoleARN: in.RoleARN,
		Reason: ecsapi.UnreachableReason(err), Code: ecsapi.Code(err), Err: err}
}

// pace spaces the calls of every account 1/PerSecond apart.
func (a *Assumer) pace(ctx context.Context) error {
	gap := time.Duration(float64(time.Second) / a.cfg.PerSecond)
	a.paceMu.Lock()
	now := time.Now()
	start := now
	if a.next.After(now) {
		start = a.next
	}
	a.next = start.Add(gap)
	a.paceMu.Unlock()
	return pause.For(ctx, start.Sub(now))
}

// Session is one member account's credentials. It is an
// ecsapi.CredentialSource, safe for concurrent use.
type Session struct {
	assumer *Assumer
	account string
	ctx     context.Context // the run's: a renewal ends with it

	mu      sync.Mutex
	creds   ecsapi.Credentials
	expires time.Time
	renewed int
	tried   time.Time // the last renewal attempt, by the assumer's clock
	failed  error     // its error, nil when it succeeded
}

// Account is the member account's ID.
func (s *Session) Account() string { return s.account }

// Expiration is when the current credentials expire.
func (s *Session) Expiration() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expires
}

// Credentials returns credentials valid for at least RefreshBefore,
// assuming the role again when the current ones expire sooner, at most
// once per RenewGap. A failed renewal keeps the current credentials while
// they last a minute more.
func (s *Session) Credentials() (ecsapi.Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.assumer.cfg.Clock()
	if now.Add(RefreshBefore).Before(s.expires) {
		return s.creds, nil
	}
	if now.Sub(s.tried) < RenewGap {
		// Renewed just now: these are the service's newest credentials,
		// whatever this clock says of them. Failed just now: as below.
		if s.failed == nil || now.Add(time.Minute).Before(s.expires) {
			return s.creds, nil
		}
		return ecsapi.Credentials{}, s.failed
	}
	if err := s.renewLocked(); err != nil {
		if now.Add(time.Minute).Before(s.expires) {
			return s.creds, nil
		}
		return ecsapi.Credentials{}, err
	}
	return s.creds, nil
}

func (s *Session) renew() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.renewLocked()
}

func (s *Session) renewLocked() error {
	s.tried = s.assumer.cfg.Clock()
	out, err := s.assumer.call(s.ctx, s.account)
	s.failed = err
	if err != nil {
		return err
	}
	s.creds, s.expires = out.Credentials, out.Expiration
	s.renewed++
	return nil
}

// String, GoString and LogValue never show the credentials: fmt's %#v
// and %+v would print the unexported fields.
func (s *Session) String() string { return "org.Session{account " + s.account + "}" }

// GoString is String.
func (s *Session) GoString() string { return s.String() }

// LogValue is String.
func (s *Session) LogValue() slog.Value { return slog.StringValue(s.String()) }

// String, GoString and LogValue never show the ExternalId.
func (a *Assumer) String() string {
	return fmt.Sprintf("org.Assumer{role %s, session %s, external ID set: %t}", a.cfg.RoleName, a.sessionName, a.cfg.ExternalID != "")
}

// GoString is String.
func (a *Assumer) GoString() string { return a.String() }

// LogValue is String.
func (a *Assumer) LogValue() slog.Value { return slog.StringValue(a.String()) }

// SessionPolicy is the session policy granting exactly actions on every
// resource: the token can do no more than this, whatever the role allows.
func SessionPolicy(actions []string) (string, error) {
	if len(actions) == 0 {
		return "", errors.New("session policy: no actions")
	}
	for _, a := range actions {
		if strings.Contains(a, "*") || !strings.Contains(a, ":") {
			return "", fmt.Errorf("session policy: %q is not one product:Action", a)
		}
	}
	type statement struct {
		Effect   string
		Action   []string
		Resource string
	}
	b, err := json.Marshal(struct {
		Version   string
		Statement []statement
	}{"1", []statement{{"Allow", actions, "*"}}})
	if err != nil {
		return "", fmt.Errorf("session policy: %w", err)
	}
	if len(b) > MaxPolicyLen {
		return "", fmt.Errorf("session policy: %d characters, more than the %d AssumeRole takes", len(b), MaxPolicyLen)
	}
	return string(b), nil
}

// MaxPolicyLen is the longest session policy sent. STS's limit is not
// settled by a source here; 2048 is the smallest figure seen for it.
const MaxPolicyLen = 2048

// Session names: 2 to 64 characters, letters, digits and . @ - _.
const maxSessionName = 64

var sessionNameRE = regexp.MustCompile(`^[A-Za-z0-9.@_-]{2,64}$`)

// ValidSessionName reports whether STS accepts name as RoleSessionName.
func ValidSessionName(name string) bool { return sessionNameRE.MatchString(name) }

// SessionName is "ecs-reaper@<run>": the tool and the run, with every
// character STS refuses replaced by "-" and cut to 64 characters.
func SessionName(runID string) string {
	var b strings.Builder
	b.WriteString(Tool)
	if runID != "" {
		b.WriteByte('@')
		for _, r := range runID {
			if b.Len() >= maxSessionName {
				break
			}
			if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".@_-", r)) {
				b.WriteRune(r)
			} else {
				b.WriteByte('-')
			}
		}
	}
	return b.String()
}

var (
	roleNameRE   = regexp.MustCompile(`^[A-Za-z0-9.-]{1,64}$`)
	externalIDRE = regexp.MustCompile(`^[\w+=,.@:/-]+$`) // 2..1224 long, checked apart: RE2 repeats at most 1000
)

// CheckRoleName returns what is wrong with a RAM role name, or "": 1 to
// 64 letters, digits, "." and "-".
func CheckRoleName(name string) string {
	if !roleNameRE.MatchString(name) {
		return "must be a RAM role name: 1 to 64 letters, digits, '.' and '-'"
	}
	return ""
}

// CheckExternalID returns what is wrong with an ExternalId, or "": 2 to
// 1224 letters, digits and + = , . @ : / - _. The value is never shown.
func CheckExternalID(id string) string {
	if len(id) < 2 || len(id) > 1224 || !externalIDRE.MatchString(id) {
		return "must be 2 to 1224 letters, digits and + = , . @ : / - _ (its value is not shown)"
	}
	return ""
}
