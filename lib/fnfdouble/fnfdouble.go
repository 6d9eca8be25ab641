// Package fnfdouble is an in-process CloudFlow (Serverless Workflow, API
// fnf 2019-03-15) double on 127.0.0.1 serving StartExecution to the SDK's
// services/fnf client, with the RPC v1 signature checked as ECS's double
// checks it, and the execution-name semantics CloudFlow documents: a name
// is unique within its flow; starting a name whose execution is running
// returns that execution; starting a name whose execution has finished is
// refused with ExecutionAlreadyExists. Nothing leaves the machine.
package fnfdouble

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
)

// APIVersion is the CloudFlow API version the double serves.
const APIVersion = "2019-03-15"

// Execution statuses.
const (
	Running   = "Running"
	Succeeded = "Succeeded"
	Failed    = "Failed"
)

// Execution is one execution as the double holds it.
type Execution struct {
	Flow, Name, Input, Status string
	Started, Stopped          time.Time
	Starts                    int // StartExecution calls that named it
}

// Server is a running CloudFlow double, safe for concurrent use.
type Server struct {
	hs  *http.Server
	url string

	mu     sync.Mutex
	creds  map[string][2]string // AccessKey ID → secret, token
	flows  map[string]map[string]*Execution
	nonces map[string]bool
	seq    int
}

// Start serves the given flows on a loopback port.
func Start(flows ...string) (*Server, error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{creds: map[string][2]string{}, flows: map[string]map[string]*Execution{}, nonces: map[string]bool{}}
	for _, f := range flows {
		s.flows[f] = map[string]*Execution{}
	}
	s.url = "http://" + ln.Addr().String()
	s.hs = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.hs.Serve(ln) }()
	return s, nil
}

// URL is the endpoint (REAPER_FNF_ENDPOINT).
func (s *Server) URL() string { return s.url }

// Close stops the server.
func (s *Server) Close() error { return s.hs.Close() }

// AddCredential accepts an AccessKey; token "" for a plain AccessKey.
func (s *Server) AddCredential(id, secret, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds[id] = [2]string{secret, token}
}

// Finish ends a running execution with status (Succeeded or Failed).
func (s *Server) Finish(flow, name, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.flows[flow][name]
	if e == nil || e.Status != Running {
		return false
	}
	e.Status, e.Stopped = status, time.Now().UTC()
	return true
}

// Executions lists a flow's executions by name.
func (s *Server) Executions(flow string) []Execution {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Execution, 0, len(s.flows[flow]))
	for _, e := range s.flows[flow] {
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// executionName is CloudFlow's rule for flow and execution names.
var executionName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,127}$`)

// MaxInputBytes is the execution input CloudFlow accepts (a state's
// input is at most 64 KiB).
const MaxInputBytes = 64 << 10

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.seq++
	reqID := fmt.Sprintf("FNF-DOUBLE-%06d", s.seq)
	s.mu.Unlock()
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	fail := func(status int, code, msg string) {
		reply(status, map[string]string{"RequestId": reqID, "HostId": "fnf.aliyuncs.com", "Code": code, "Message": msg})
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		fail(405, "UnsupportedHTTPMethod", "use POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		fail(400, "InvalidParameter", "malformed query or form")
		return
	}
	p := map[string]string{}
	for k, v := range r.Form {
		p[k] = v[0]
	}
	if code, msg := s.authenticate(r.Method, p); code != "" {
		fail(400, code, msg)
		return
	}
	if p["Action"] != "StartExecution" {
		fail(400, "InvalidAction.NotFound", "the double serves StartExecution only")
		return
	}
	flow, name, input := p["FlowName"], p["ExecutionName"], p["Input"]
	switch {
	case !executionName.MatchString(name):
		fail(400, "InvalidArgument", "ExecutionName must be 1 to 128 letters, digits, _ or -, starting with a letter or _")
		return
	case len(input) > MaxInputBytes:
		fail(400, "InvalidArgument", "Input is larger than 64 KiB")
		return
	case input != "" && !json.Valid([]byte(input)):
		fail(400, "InvalidArgument", "Input is not JSON")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	execs, ok := s.flows[flow]
	if !ok {
		fail(404, "FlowNotExists", "flow "+flow+" does not exist")
		return
	}
	e := execs[name]
	switch {
	case e == nil:
		e = &Execution{Flow: flow, Name: name, Input: input, Status: Running, Started: time.Now().UTC()}
		execs[name] = e
	case e.Status != Running:
		e.Starts++
		fail(409, "ExecutionAlreadyExists", "execution "+name+" already exists and has finished")
		return
	}
	e.Starts++
	reply(200, map[string]string{"RequestId": reqID, "FlowName": flow, "Name": name, "Input": e.Input, "Status": e.Status,
		"StartedTime": e.Started.Format(time.RFC3339), "StoppedTime": ""})
}

func (s *Server) authenticate(method string, p map[string]string) (code, msg string) {
	for _, k := range []string{"Action", "Version", "Timestamp", "SignatureMethod", "SignatureVersion", "SignatureNonce", "AccessKeyId", "Signature"} {
		if p[k] == "" {
			return "MissingParameter", k + " is missing"
		}
	}
	if p["Version"] != APIVersion {
		return "InvalidVersion", "the double serves " + APIVersion
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", p["Timestamp"])
	if err != nil || time.Since(ts) > 15*time.Minute || time.Since(ts) < -15*time.Minute {
		return "InvalidTimeStamp.Expired", "the time stamp is malformed or expired"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.creds[p["AccessKeyId"]]
	if !ok {
		return "InvalidAccessKeyId.NotFound", "Specified access key is not found."
	}
	if p["SecurityToken"] != c[1] {
		return "InvalidSecurityToken.Mismatch", "Specified SecurityToken does not match the AccessKeyId."
	}
	if ecsdouble.Sign(method, p, c[0]) != p["Signature"] {
		return "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."
	}
	if s.nonces[p["SignatureNonce"]] {
		return "SignatureNonceUsed", "Specified signature nonce was used already."
	}
	s.nonces[p["SignatureNonce"]] = true
	return "", ""
}
