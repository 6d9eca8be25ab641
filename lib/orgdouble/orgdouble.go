// Package orgdouble is an in-process fake of STS (2015-04-01: AssumeRole,
// GetCallerIdentity) and ResourceManager (2020-03-31: ListAccounts)
// listening on 127.0.0.1 only, for the real SDK's RPC requests. It
// verifies signature v1 like lib/ecsdouble, issues per-account temporary
// credentials into an ecsdouble.Registry (so that ecsdouble.Accounts
// accepts them for that account only), and records what each AssumeRole
// sent (role, session name, session policy, ExternalId).
//
// Error codes, as chosen here where the API documentation does not pin
// them down:
//
//	404 InvalidAccessKeyId.NotFound      unknown AccessKeyId (and ecsdouble's other request checks)
//	400 InvalidAction.NotFound           unknown Action for the Version
//	400 Throttling.User                  more AssumeRole calls in a second than WithRateLimit
//	400 InvalidParameter.RoleArn         RoleArn not acs:ram::<digits>:role/<name>
//	400 InvalidParameter.RoleSessionName not 2..64 of letters, digits, . @ - _
//	400 InvalidParameter.DurationSeconds below 900 or above the role's MaxSessionDuration
//	400 InvalidParameter.PolicyGrammar   Policy not JSON with Version "1" and a Statement list
//	400 InvalidParameter.PolicySize      Policy longer than MaxPolicyLen
//	400 InvalidParameter.ExternalId      not 2..1224 of [\w+=,.@:/-]
//	404 EntityNotExist.Role              no such role in the account
//	403 NoPermission                     the caller's account is not trusted, or the ExternalId differs
//	403 NoPermission                     ListAccounts by an account other than the management account
//	400 InvalidParameter.PageSize/PageNumber  PageSize not 1..100, PageNumber not >= 1
//
// SetAssumeError makes one account's AssumeRole answer any code.
package orgdouble

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
)

// API versions served.
const (
	STSVersion             = "2015-04-01"
	ResourceManagerVersion = "2020-03-31"
	// MaxPolicyLen is the longest session policy accepted.
	MaxPolicyLen = 2048
)

// Member is an account of the Resource Directory.
type Member struct {
	ID, Name string
	Status   string // default CreateSuccess
	Type     string // default ResourceAccount
	FolderID string
	Path     string // ResourceDirectoryPath
	Tags     map[string]string
}

// Role is a RAM role in an account.
type Role struct {
	Account, Name string
	// Trusts are the accounts whose callers may assume it; empty: the
	// management account.
	Trusts     []string
	ExternalID string        // required when set
	MaxSession time.Duration // default 3600 s
}

// AssumeCall records one AssumeRole as the double saw it.
type AssumeCall struct {
	Caller          string // the caller's account
	RoleArn         string
	Account         string // the role's account, from RoleArn
	SessionName     string
	Policy          string
	ExternalID      string
	DurationSeconds string
	Code            string // "" on success
	AccessKeyID     string // issued, on success
}

// ListCall records one ListAccounts.
type ListCall struct {
	Caller               string
	PageNumber, PageSize string
	Tags                 map[string]string
	IncludeTags          string
	Code                 string
}

type fault struct {
	status int
	code   string
	times  int // < 0: always
}

// Server is a running STS and ResourceManager double.
type Server struct {
	hs       *http.Server
	host     string
	registry *ecsdouble.Registry
	mgmt     string

	mu           sync.Mutex
	members      []Member
	roles        map[string]Role // by ARN
	faults       map[string]*fault
	assumes      []AssumeCall
	lists        []ListCall
	nonces       map[string]bool
	rate         int
	window       time.Time
	inWindow     int
	duration     time.Duration // issued lifetime override
	ignoreTagged bool
	seq          int
	clock        func() time.Time
}

// Option configures Start.
type Option func(*Server)

// WithManagement is the Resource Directory's management account: the
// default trusted account of every role, and the one account that may
// call ListAccounts.
func WithManagement(account string) Option { return func(s *Server) { s.mgmt = account } }

// WithMembers adds members to the directory (in this order).
func WithMembers(members ...Member) Option {
	return func(s *Server) { s.members = append(s.members, members...) }
}

// WithRole creates a role.
func WithRole(r Role) Option { return func(s *Server) { s.addRole(r) } }

// WithRateLimit answers at most n AssumeRole calls in any second
// (Throttling.User for the rest).
func WithRateLimit(n int) Option { return func(s *Server) { s.rate = n } }

// WithIssuedLifetime issues credentials that expire after d, whatever
// DurationSeconds asked (tests of renewal).
func WithIssuedLifetime(d time.Duration) Option { return func(s *Server) { s.duration = d } }

// WithClock sets the time issued credentials' expirations count from
// (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.clock = now } }

// IgnoreTagFilter makes ListAccounts answer every member whatever its Tag
// filter says, as a service that ignored it would.
func IgnoreTagFilter() Option { return func(s *Server) { s.ignoreTagged = true } }

// Start serves on 127.0.0.1 until Close. Callers authenticate with keys
// in reg (ecsdouble.Accounts.AddCredential or Registry.Add).
func Start(reg *ecsdouble.Registry, opts ...Option) (*Server, error) {
	s := &Server{registry: reg, roles: map[string]Role{}, faults: map[string]*fault{}, nonces: map[string]bool{}, clock: time.Now}
	for _, o := range opts {
		o(s)
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("orgdouble: listen: %w", err)
	}
	s.host = ln.Addr().String()
	s.hs = &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.hs.Serve(ln) }()
	return s, nil
}

// URL is "http://127.0.0.1:PORT".
func (s *Server) URL() string { return "http://" + s.host }

// Close stops the server.
func (s *Server) Close() { _ = s.hs.Close() }

// RoleARN is acs:ram::<account>:role/<name>.
func RoleARN(account, name string) string { return "acs:ram::" + account + ":role/" + name }

func (s *Server) addRole(r Role) {
	if r.MaxSession == 0 {
		r.MaxSession = time.Hour
	}
	s.roles[RoleARN(r.Account, r.Name)] = r
}

// AddRole creates a role.
func (s *Server) AddRole(r Role) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addRole(r)
}

// SetAssumeError makes AssumeRole into account answer status and code the
// next times calls (times < 0: every call; 0 clears it).
func (s *Server) SetAssumeError(account string, status int, code string, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if times == 0 {
		delete(s.faults, account)
		return
	}
	s.faults[account] = &fault{status, code, times}
}

// AssumeCalls returns every AssumeRole record, in order.
func (s *Server) AssumeCalls() []AssumeCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.assumes)
}

// ListCalls returns every ListAccounts record, in order.
func (s *Server) ListCalls() []ListCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lists)
}

type apiErr struct {
	status        int
	code, message string
}

func (s *Server) answer(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		status, b = 500, []byte(`{"Code":"InternalError"}`)
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *Server) requestID() string {
	s.mu.Lock()
	s.seq++
	n := s.seq
	s.mu.Unlock()
	return fmt.Sprintf("0RG0D0B1-E000-4000-8000-%012X", n)
}

func (s *Server) fail(w http.ResponseWriter, reqID string, e *apiErr) {
	s.answer(w, e.status, map[string]string{"RequestId": reqID, "HostId": "sts.aliyuncs.com", "Code": e.code, "Message": e.message,
		"Recommend": "https://api.aliyun.com/troubleshoot?q=" + e.code})
}

func (s *Server) fresh(nonce string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nonces[nonce] {
		return false
	}
	s.nonces[nonce] = true
	return true
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := s.requestID()
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		s.fail(w, reqID, &apiErr{405, "UnsupportedHTTPMethod", "use POST or GET"})
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, reqID, &apiErr{400, "InvalidParameter", "malformed query or form"})
		return
	}
	p := make(map[string]string, len(r.Form))
	for k, v := range r.Form {
		p[k] = v[0]
	}
	if e := ecsdouble.VerifyRequest(r.Method, p, []string{STSVersion, ResourceManagerVersion}, s.registry.Secret, s.fresh); e != nil {
		s.fail(w, reqID, &apiErr{e.Status, e.Code, e.Message})
		return
	}
	caller, _ := s.registry.Lookup(p["AccessKeyId"])
	switch {
	case p["Version"] == STSVersion && p["Action"] == "AssumeRole":
		s.assumeRole(w, reqID, caller, p)
	case p["Version"] == STSVersion && p["Action"] == "GetCallerIdentity":
		s.answer(w, 200, map[string]string{"RequestId": reqID, "AccountId": caller.Account, "Arn": "acs:ram::" + caller.Account + ":user/caller",
			"IdentityType": "RAMUser", "UserId": "1", "PrincipalId": "1"})
	case p["Version"] == ResourceManagerVersion && p["Action"] == "ListAccounts":
		s.listAccounts(w, reqID, caller, p)
	default:
		s.fail(w, reqID, &apiErr{400, "InvalidAction.NotFound", fmt.Sprintf("Specified api %q is not found.", p["Action"])})
	}
}

var (
	roleArnRE     = regexp.MustCompile(`^acs:ram::([0-9]{1,20}):role/([A-Za-z0-9.-]{1,64})$`)
	sessionNameRE = regexp.MustCompile(`^[A-Za-z0-9.@_-]{2,64}$`)
	externalIDRE  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

func (s *Server) admit(now time.Time) bool {
	if s.rate <= 0 {
		return true
	}
	if now.Sub(s.window) >= time.Second {
		s.window, s.inWindow = now, 0
	}
	s.inWindow++
	return s.inWindow <= s.rate
}

func (s *Server) assumeRole(w http.ResponseWriter, reqID string, caller ecsdouble.Issued, p map[string]string) {
	call := AssumeCall{Caller: caller.Account, RoleArn: p["RoleArn"], SessionName: p["RoleSessionName"], Policy: p["Policy"],
		ExternalID: p["ExternalId"], DurationSeconds: p["DurationSeconds"]}
	if m := roleArnRE.FindStringSubmatch(call.RoleArn); m != nil {
		call.Account = m[1]
	}
	s.mu.Lock()
	e, out := s.assumeLocked(&call, reqID)
	if e != nil {
		call.Code = e.code
	}
	s.assumes = append(s.assumes, call)
	s.mu.Unlock()
	if e != nil {
		s.fail(w, reqID, e)
		return
	}
	s.answer(w, 200, out)
}

func (s *Server) assumeLocked(call *AssumeCall, reqID string) (*apiErr, any) {
	if !s.admit(time.Now()) {
		return &apiErr{400, "Throttling.User", "Request was denied due to user flow control."}, nil
	}
	if f := s.faults[call.Account]; f != nil && call.Account != "" {
		if f.times > 0 {
			if f.times--; f.times == 0 {
				delete(s.faults, call.Account)
			}
		}
		return &apiErr{f.status, f.code, "injected"}, nil
	}
	if call.Account == "" {
		return &apiErr{400, "InvalidParameter.RoleArn", "The parameter RoleArn is invalid."}, nil
	}
	if !sessionNameRE.MatchString(call.SessionName) {
		return &apiErr{400, "InvalidParameter.RoleSessionName", "The parameter RoleSessionName is invalid."}, nil
	}
	role, ok := s.roles[call.RoleArn]
	duration := time.Hour
	if v := call.DurationSeconds; v != "" {
		n, err := strconv.Atoi(v)
		max := time.Hour
		if ok {
			max = role.MaxSession
		}
		if err != nil || n < 900 || time.Duration(n)*time.Second > max {
			return &apiErr{400, "InvalidParameter.DurationSeconds", "The DurationSeconds is out of range."}, nil
		}
		duration = time.Duration(n) * time.Second
	}
	if call.Policy != "" {
		if len(call.Policy) > MaxPolicyLen {
			return &apiErr{400, "InvalidParameter.PolicySize", "The policy is too long."}, nil
		}
		var doc struct {
			Version   string
			Statement []map[string]any
		}
		if json.Unmarshal([]byte(call.Policy), &doc) != nil || doc.Version != "1" || len(doc.Statement) == 0 {
			return &apiErr{400, "InvalidParameter.PolicyGrammar", "The policy grammar is invalid."}, nil
		}
	}
	if x := call.ExternalID; x != "" && (len(x) < 2 || len(x) > 1224 || !externalIDRE.MatchString(x)) {
		return &apiErr{400, "InvalidParameter.ExternalId", "The parameter ExternalId is invalid."}, nil
	}
	if !ok {
		return &apiErr{404, "EntityNotExist.Role", "The specified Role not exists: " + call.RoleArn}, nil
	}
	trusts := role.Trusts
	if len(trusts) == 0 {
		trusts = []string{s.mgmt}
	}
	if !slices.Contains(trusts, call.Caller) {
		return &apiErr{403, "NoPermission", "You are not authorized to assume this role (its trust policy does not name your account)."}, nil
	}
	if role.ExternalID != "" && call.ExternalID != role.ExternalID {
		return &apiErr{403, "NoPermission", "You are not authorized to assume this role (the ExternalId condition of its trust policy is not met)."}, nil
	}
	if s.duration > 0 {
		duration = s.duration
	}
	expires := s.clock().Add(duration).UTC().Truncate(time.Second)
	issued := ecsdouble.Issued{Account: call.Account, AccessKeyID: "STS.planted" + token(8), AccessKeySecret: "planted-secret-" + token(12),
		SecurityToken: "planted-token-" + token(24), Expiration: expires}
	s.registry.Add(issued)
	call.AccessKeyID = issued.AccessKeyID
	return nil, map[string]any{
		"RequestId":       reqID,
		"AssumedRoleUser": map[string]string{"AssumedRoleId": "3" + token(6) + ":" + call.SessionName, "Arn": call.RoleArn + "/" + call.SessionName},
		"Credentials": map[string]string{"AccessKeyId": issued.AccessKeyID, "AccessKeySecret": issued.AccessKeySecret,
			"SecurityToken": issued.SecurityToken, "Expiration": expires.Format("2006-01-02T15:04:05Z")},
	}
}

func token(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) listAccounts(w http.ResponseWriter, reqID string, caller ecsdouble.Issued, p map[string]string) {
	call := ListCall{Caller: caller.Account, PageNumber: p["PageNumber"], PageSize: p["PageSize"], IncludeTags: p["IncludeTags"], Tags: map[string]string{}}
	e, out := s.listLocked(&call, reqID, p)
	s.mu.Lock()
	if e != nil {
		call.Code = e.code
	}
	s.lists = append(s.lists, call)
	s.mu.Unlock()
	if e != nil {
		s.fail(w, reqID, e)
		return
	}
	s.answer(w, 200, out)
}

func (s *Server) listLocked(call *ListCall, reqID string, p map[string]string) (*apiErr, any) {
	if call.Caller != s.mgmt {
		return &apiErr{403, "NoPermission", "Only the management account or a delegated administrator may list the members."}, nil
	}
	page, size := 1, 10
	if v := p["PageNumber"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return &apiErr{400, "InvalidParameter.PageNumber", "PageNumber must be an integer >= 1."}, nil
		}
		page = n
	}
	if v := p["PageSize"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return &apiErr{400, "InvalidParameter.PageSize", "PageSize must be an integer from 1 to 100."}, nil
		}
		size = n
	}
	for i := 1; i <= 20; i++ {
		k, ok := p[fmt.Sprintf("Tag.%d.Key", i)]
		if ok {
			call.Tags[k] = p[fmt.Sprintf("Tag.%d.Value", i)]
		}
	}
	s.mu.Lock()
	var match []Member
	for _, m := range s.members {
		ok := true
		for k, v := range call.Tags {
			if got, has := m.Tags[k]; !has || got != v {
				ok = false
			}
		}
		if ok || s.ignoreTagged {
			match = append(match, m)
		}
	}
	s.mu.Unlock()
	type tag struct{ Key, Value string }
	type account struct {
		AccountID             string `json:"AccountId"`
		DisplayName           string
		Status                string
		Type                  string
		FolderID              string `json:"FolderId"`
		ResourceDirectoryPath string
		JoinMethod            string
		JoinTime              string
		Tags                  *struct{ Tag []tag } `json:",omitempty"`
	}
	var list []account
	for i := (page - 1) * size; i < len(match) && i < page*size; i++ {
		m := match[i]
		a := account{AccountID: m.ID, DisplayName: m.Name, Status: m.Status, Type: m.Type, FolderID: m.FolderID,
			ResourceDirectoryPath: m.Path, JoinMethod: "created", JoinTime: "2026-01-01T00:00:00Z"}
		if a.Status == "" {
			a.Status = "CreateSuccess"
		}
		if a.Type == "" {
			a.Type = "ResourceAccount"
		}
		if strings.EqualFold(p["IncludeTags"], "true") {
			a.Tags = &struct{ Tag []tag }{Tag: []tag{}}
			for _, k := range sortedKeys(m.Tags) {
				a.Tags.Tag = append(a.Tags.Tag, tag{k, m.Tags[k]})
			}
		}
		list = append(list, a)
	}
	if list == nil {
		list = []account{}
	}
	return nil, map[string]any{"RequestId": reqID, "TotalCount": len(match), "PageNumber": page, "PageSize": size,
		"Accounts": map[string]any{"Account": list}}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
