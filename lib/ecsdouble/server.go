package ecsdouble

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/pause"
)

// APIVersion is the ECS API version the double accepts.
const APIVersion = "2014-05-26"

// VPCAPIVersion is the VPC API version (EIPs): the double serves both
// products on one endpoint, so that an instance's release unbinds its EIPs.
const VPCAPIVersion = "2016-04-28"

// HostID is the HostId field of every error body.
const HostID = "ecs.aliyuncs.com"

// Call records one request as the double saw it.
type Call struct {
	Action    string
	Region    string            // RegionId param
	Params    map[string]string // all params minus Signature, SecurityToken, AccessKeyId
	Status    int               // HTTP status sent; 0 when none (reset, client gone)
	Code      string            // error code; "" on success
	RequestID string
	Fault     *Fault // the injected fault, nil when none
	Time      time.Time
}

type cred struct {
	secret, token string
	expires       time.Time // zero: never
}

type tokenRec struct {
	fingerprint string
	requestID   string
}

// Server is a running ECS double. All methods are safe for concurrent use.
type Server struct {
	hs   *http.Server
	host string

	latency atomic.Int64
	// date, when set, writes every answer's Date header ("" omits it).
	date atomic.Pointer[func() string]
	seq  atomic.Uint64
	// describeDenied imitates a role without ecs:DescribeInstances: ECS
	// answers such a caller with an empty list, not an error.
	describeDenied atomic.Bool
	salt           uint64

	mu           sync.Mutex
	st           *store
	known        map[string]bool
	creds        map[string]cred
	nonces       map[string]bool
	calls        []Call
	counts       map[string]int
	released     map[string]bool
	tokens       map[string]tokenRec
	rules        []*ruleState
	onRequest    func(*Call) *Fault
	beforeDelete func(string, []string)
	res          *resources
	tagRefusals  map[string]*apiError // RefuseTags
	rand         *rand.Rand
	clock        func() time.Time
	rate         rateLimit
	account      string
	registry     *Registry
	addr         string // where Start listens
}

type config struct {
	creds   map[string]cred
	clock   func() time.Time
	seed    int64
	regions []string
	latency time.Duration
	rate    int // calls per second per action and region; 0 is no limit
	// account and registry: the double is this account's and also accepts
	// the credentials the registry holds for it (StartAccounts).
	account  string
	registry *Registry
	addr     string
}

// Option configures Start.
type Option func(*config)

// WithCredential accepts an AccessKey (securityToken "" for a plain AK, or
// the STS token the requests must carry).
func WithCredential(akID, secret, securityToken string) Option {
	return func(c *config) { c.creds[akID] = cred{secret: secret, token: securityToken} }
}

// WithClock sets the double's clock (default time.Now): the time used to
// decide whether a PrePaid instance has expired, and the Date header of
// every answer, as ECS's servers send their own time. Signature
// timestamps always use real time.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithSeed seeds the rand behind probabilistic fault rules and request IDs.
func WithSeed(seed int64) Option { return func(c *config) { c.seed = seed } }

// WithRegions adds regions (without instances) to DescribeRegions.
func WithRegions(ids ...string) Option {
	return func(c *config) { c.regions = append(c.regions, ids...) }
}

// WithLatency answers every request d after it arrived (the double's own
// work included), or as soon as it can if that took longer; see SetLatency.
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithAddr listens on addr ("127.0.0.1:8080", "[::1]:0") instead of a free
// port of 127.0.0.1. Only a loopback address is accepted: the double
// serves fake credentials and must not be reachable from elsewhere.
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// loopbackAddr checks that addr is host:port with a loopback IP host.
func loopbackAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("address %q: the double listens on a loopback IP only (127.0.0.1 or ::1)", addr)
	}
	return nil
}

// Start serves fleet on 127.0.0.1 at a free port (or WithAddr's) until Close.
func Start(fleet Fleet, opts ...Option) (*Server, error) {
	s, err := newServer(fleet, opts...)
	if err != nil {
		return nil, err
	}
	if err := loopbackAddr(s.addr); err != nil {
		return nil, fmt.Errorf("ecsdouble: %w", err)
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", s.addr)
	if err != nil {
		return nil, fmt.Errorf("ecsdouble: listen: %w", err)
	}
	s.host = ln.Addr().String()
	s.hs = &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.hs.Serve(ln) }()
	return s, nil
}

// newServer builds a double that does not listen yet.
func newServer(fleet Fleet, opts ...Option) (*Server, error) {
	cfg := config{creds: map[string]cred{}, clock: time.Now, seed: 1, addr: "127.0.0.1:0"}
	for _, o := range opts {
		o(&cfg)
	}
	if err := fleet.Validate(); err != nil {
		return nil, fmt.Errorf("ecsdouble: %w", err)
	}
	s := &Server{
		st:       newStore(fleet),
		res:      newResources(fleet),
		known:    map[string]bool{},
		creds:    cfg.creds,
		nonces:   map[string]bool{},
		counts:   map[string]int{},
		released: map[string]bool{},
		tokens:   map[string]tokenRec{},
		rand:     rand.New(rand.NewSource(cfg.seed)),
		clock:    cfg.clock,
	}
	s.salt = s.rand.Uint64()
	s.latency.Store(int64(cfg.latency))
	s.rate.set(cfg.rate)
	for r := range s.st.regions {
		s.known[r] = true
	}
	for _, r := range cfg.regions {
		s.known[r] = true
	}
	// A region may hold disks, snapshots or EIPs and no instance.
	for _, r := range fleet.Regions() {
		s.known[r] = true
	}
	s.account, s.registry, s.addr = cfg.account, cfg.registry, cfg.addr
	return s, nil
}

// URL is the base URL, "http://127.0.0.1:PORT".
func (s *Server) URL() string { return "http://" + s.host }

// Host is "127.0.0.1:PORT", the value for the SDK client's Domain.
func (s *Server) Host() string { return s.host }

// Close stops the server and drops open connections.
func (s *Server) Close() {
	if s.hs != nil {
		_ = s.hs.Close()
	}
}

// AddCredential accepts another AccessKey; securityToken "" is a plain AK,
// otherwise requests must carry that SecurityToken.
func (s *Server) AddCredential(akID, secret, securityToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds[akID] = cred{secret: secret, token: securityToken}
}

// Calls returns a copy of every request record, in the order answered.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallCount is the number of requests received for action.
func (s *Server) CallCount(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[action]
}

// CallCounts is the number of requests received, by action.
func (s *Server) CallCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.counts)
}

// Released returns the sorted IDs released by DeleteInstances.
func (s *Server) Released() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.released))
	for id := range s.released {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Instance returns the current state of a live (not released or removed)
// instance.
func (s *Server) Instance(id string) (Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.byID[id]
	if r == nil {
		return Instance{}, false
	}
	return r.instance(), true
}

// Mutate changes a live instance in place (tests use it to simulate changes
// between listing and release). Changing the ID is ignored; missing IDs are
// a no-op.
func (s *Server) Mutate(id string, f func(*Instance)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.st.byID[id]
	if old == nil {
		return
	}
	in := old.instance()
	f(&in)
	in.ID = id
	s.st.drop(old)
	r := s.st.toRec(in)
	s.st.put(r)
	s.known[r.region] = true
}

// Add inserts a new instance (or replaces one with the same ID).
func (s *Server) Add(in Instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.st.byID[in.ID]; old != nil {
		s.st.drop(old)
	}
	r := s.st.toRec(in)
	s.st.put(r)
	s.known[r.region] = true
}

// Remove makes an instance vanish without counting it as released.
func (s *Server) Remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.st.byID[id]; r != nil {
		s.st.drop(r)
	}
}

// reply is an action's answer before it is written.
type reply struct {
	status int
	code   string
	body   []byte
	reqID  string  // overrides the request's ID (idempotent replay)
	buf    *[]byte // body's buffer, from pageBuffers, returned once written
}

// pageBuffers recycles DescribeInstances answers: the double shares the
// benchmarks' cores, and fresh memory for every page costs it page faults.
var pageBuffers = sync.Pool{New: func() any { return new([]byte) }}

// apiError is an API error answer.
type apiError struct {
	status        int
	code, message string
}

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{status, code, fmt.Sprintf(format, args...)}
}

type errorBody struct {
	RequestID string `json:"RequestId"`
	HostID    string `json:"HostId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Recommend string `json:"Recommend"`
}

func errorReply(reqID string, e *apiError) reply {
	msg := e.message
	if msg == "" {
		msg = e.code
	}
	b, _ := json.Marshal(errorBody{reqID, HostID, e.code, msg,
		"https://api.aliyun.com/troubleshoot?q=" + e.code + "&product=Ecs"})
	return reply{status: e.status, code: e.code, body: b}
}

func jsonReply(v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		return reply{status: 500, code: "InternalError", body: []byte(`{"Code":"InternalError"}`)}
	}
	return reply{status: 200, body: b}
}

func (s *Server) newRequestID() string {
	n := s.seq.Add(1)
	h := fnv.New64a()
	fmt.Fprintf(h, "%d-%d", s.salt, n)
	x := h.Sum64()
	return fmt.Sprintf("%08X-%04X-%04X-%04X-%012X", uint32(x>>32), uint16(x>>16), uint16(x), uint16(s.salt), n)
}

// actions is the double's dispatch table: every action it serves, in one
// place (DeleteInstance, the singular, is the naive baseline's).
// SetDate overrides the Date header of every answer: date returns the
// header's value, "" to send none; nil restores the double's clock.
func (s *Server) SetDate(date func() string) {
	if date == nil {
		s.date.Store(nil)
		return
	}
	s.date.Store(&date)
}

// writeDate sends the double's own time as the answer's Date (net/http
// would send the host's).
func (s *Server) writeDate(w http.ResponseWriter) {
	if f := s.date.Load(); f != nil {
		if v := (*f)(); v != "" {
			w.Header().Set("Date", v)
		} else {
			w.Header()["Date"] = nil // suppresses net/http's own
		}
		return
	}
	w.Header().Set("Date", s.clock().UTC().Format(http.TimeFormat))
}

var actions = map[string]func(*Server, string, map[string]string) reply{
	"DescribeRegions":   (*Server).describeRegions,
	"DescribeInstances": (*Server).describeInstances,
	"ListTagResources":  (*Server).listTagResources,
	"DeleteInstances":   (*Server).deleteInstances,
	"DeleteInstance":    (*Server).deleteInstance,
	"TagResources":      (*Server).tagResources,
	"StopInstances":     (*Server).stopInstances,
	"DescribeDisks":     (*Server).describeDisks,
	"DescribeSnapshots": (*Server).describeSnapshots,
	"DeleteDisk":        (*Server).deleteDisk,
	"DeleteSnapshot":    (*Server).deleteSnapshot,
	"DescribeImages":    (*Server).describeImages,
	"DeleteImage":       (*Server).deleteImage,
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.writeDate(w)
	reqID := s.newRequestID()
	call := Call{RequestID: reqID, Time: time.Now()}
	// Record before the client can see the answer, so a test that checks
	// Calls right after a call always finds it.
	recorded := false
	record := func() {
		if !recorded {
			recorded = true
			s.record(call)
		}
	}
	defer record()
	finish := func(rep reply) {
		if rep.reqID != "" {
			call.RequestID = rep.reqID
		}
		call.Status, call.Code = rep.status, rep.code
		record()
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		// A known length lets net/http send the body as it is, not chunked.
		w.Header().Set("Content-Length", strconv.Itoa(len(rep.body)))
		w.WriteHeader(rep.status)
		_, _ = w.Write(rep.body)
		if rep.buf != nil {
			*rep.buf = rep.body[:0]
			pageBuffers.Put(rep.buf)
		}
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		finish(errorReply(reqID, errf(405, "UnsupportedHTTPMethod", "The HTTP method %s is not supported; use POST or GET.", r.Method)))
		return
	}
	if err := r.ParseForm(); err != nil {
		finish(errorReply(reqID, errf(400, "InvalidParameter", "Malformed query or form: %v", err)))
		return
	}
	params := make(map[string]string, len(r.Form))
	for k, v := range r.Form {
		params[k] = v[0]
	}
	call.Action, call.Region = params["Action"], params["RegionId"]
	// The latency counts from the request's arrival, so the double's own
	// parsing and signature check fall within it rather than after it:
	// every call takes the injected latency, as long as the double keeps up.
	authErr := s.authenticate(r.Method, params)
	// The call is recorded without the credentials and the signature.
	delete(params, "Signature")
	delete(params, "SecurityToken")
	delete(params, "AccessKeyId")
	call.Params = params
	if pause.For(r.Context(), time.Duration(s.latency.Load())-time.Since(call.Time)) != nil {
		return // client gone; nothing to answer
	}
	if authErr != nil {
		finish(errorReply(reqID, authErr))
		return
	}
	act := actions[call.Action]
	if params["Version"] == VPCAPIVersion {
		act = vpcActions[call.Action]
	}
	if act == nil {
		finish(errorReply(reqID, errf(400, "InvalidAction.NotFound", "Specified api %q is not found, please check your url and method.", call.Action)))
		return
	}
	if !s.rate.admit(call.Action, call.Region, time.Now()) {
		finish(errorReply(reqID, errf(400, throttleCode, throttleMessage)))
		return
	}
	f := s.pickFault(&call)
	if f == nil {
		finish(act(s, reqID, params))
		return
	}
	call.Fault = f
	if pause.For(r.Context(), f.Delay) != nil {
		return
	}
	var rep reply
	switch {
	case f.Kind == FaultRepeatPage:
		prev := maps.Clone(params)
		if n, err := strconv.Atoi(params["PageNumber"]); err == nil && n > 1 {
			prev["PageNumber"] = strconv.Itoa(n - 1)
		}
		rep = act(s, reqID, prev)
	case f.Applied || f.Kind == FaultNone || f.Kind == FaultCycleToken || f.Kind == FaultEmptyPage ||
		f.Kind == FaultTruncated && call.Action != "DeleteInstances":
		rep = act(s, reqID, params)
	default:
		rep = jsonReply(map[string]string{"RequestId": reqID})
	}
	switch f.Kind {
	case FaultNone, FaultRepeatPage:
		finish(rep)
	case FaultCycleToken, FaultEmptyPage:
		if rep.status == http.StatusOK {
			rep.body = editPage(rep.body, f.Kind, params["NextToken"])
		}
		finish(rep)
	case FaultError:
		finish(errorReply(reqID, &apiError{f.Status, f.Code, f.Message}))
	case FaultHTML:
		call.Status, call.Code = http.StatusBadGateway, "HTML502"
		record()
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>Tengine</center>\r\n</body>\r\n</html>\r\n"))
	case FaultTruncated:
		rep.body = rep.body[:len(rep.body)/2]
		rep.code = "Truncated"
		finish(rep)
	case FaultReset:
		call.Code = "ConnectionReset"
		record()
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic(http.ErrAbortHandler)
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = conn.Close()
	}
}

// editPage damages a listing's answer for a paging fault: the token it was
// read at handed back, or its entries (the one list under a top-level
// object, e.g. Disks.Disk) emptied.
func editPage(body []byte, kind FaultKind, token string) []byte {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	switch kind {
	case FaultCycleToken:
		m["NextToken"] = token
	case FaultEmptyPage:
		for _, v := range m {
			if obj, ok := v.(map[string]any); ok && len(obj) == 1 {
				for k, list := range obj {
					if _, ok := list.([]any); ok {
						obj[k] = []any{}
					}
				}
			}
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return b
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	s.counts[c.Action]++
}

// authenticate checks the common parameters, the credential and the
// signature. Timestamps are checked against real time (15 minutes skew).
func (s *Server) authenticate(method string, p map[string]string) *apiError {
	if err := VerifyRequest(method, p, []string{APIVersion, VPCAPIVersion}, s.lookupCred, s.freshNonce); err != nil {
		return &apiError{err.Status, err.Code, err.Message}
	}
	return nil
}

// lookupCred finds an AccessKey: one given to this double, or one the
// registry holds for its account.
func (s *Server) lookupCred(akID string) (Secret, bool) {
	s.mu.Lock()
	c, ok := s.creds[akID]
	s.mu.Unlock()
	if ok {
		return Secret{AccessKeySecret: c.secret, SecurityToken: c.token, Expiration: c.expires}, true
	}
	if s.registry != nil {
		if is, ok := s.registry.Lookup(akID); ok && is.Account == s.account {
			return Secret{AccessKeySecret: is.AccessKeySecret, SecurityToken: is.SecurityToken, Expiration: is.Expiration}, true
		}
	}
	return Secret{}, false
}

// freshNonce records a SignatureNonce and reports whether it was new.
func (s *Server) freshNonce(nonce string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nonces[nonce] {
		return false
	}
	s.nonces[nonce] = true
	return true
}
