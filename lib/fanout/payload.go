package fanout

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Phase is the step of the flow a worker invocation performs.
type Phase string

// The phases, in the flow's order.
const (
	PhasePlan    Phase = "plan"
	PhaseDecide  Phase = "decide"
	PhaseNotify  Phase = "notify"
	PhaseExecute Phase = "execute"
	PhaseReport  Phase = "report"
)

// Phases lists every phase in the flow's order.
var Phases = []Phase{PhasePlan, PhaseDecide, PhaseNotify, PhaseExecute, PhaseReport}

// PerAccount reports whether the phase runs once per account (and its
// payload names the account).
func (p Phase) PerAccount() bool { return p == PhasePlan || p == PhaseExecute }

func (p Phase) valid() bool {
	for _, q := range Phases {
		if p == q {
			return true
		}
	}
	return false
}

// Payload is what CloudFlow sends the worker function
// (docs/worker-payload.schema.json).
type Payload struct {
	Phase   Phase  `json:"phase"`
	Run     RunID  `json:"run"`
	Account string `json:"account,omitempty"`
}

// MaxPayloadBytes bounds a payload: the real ones are under 100 bytes, and
// FC's asynchronous limit (128 KB) is far above anything legitimate.
const MaxPayloadBytes = 1024

// ParsePayload reads a worker payload strictly: one JSON object with the
// string fields phase, run and (for plan and execute only) account; no
// other field, no field twice, nothing after the object. Every problem is
// named; the input is quoted only in part, and only as far as it is text.
func ParsePayload(b []byte) (Payload, error) {
	var p Payload
	if len(b) > MaxPayloadBytes {
		return p, fmt.Errorf("worker payload: %d bytes, more than the %d a payload may have", len(b), MaxPayloadBytes)
	}
	if !utf8.Valid(b) {
		return p, errors.New("worker payload: not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return p, errors.New(`worker payload: must be a JSON object such as {"phase":"plan","run":"20261206T090000Z","account":"1234567890123456"}`)
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return p, fmt.Errorf("worker payload: not valid JSON: %w", err)
		}
		key, _ := t.(string)
		if seen[key] {
			return p, fmt.Errorf("worker payload: field %s appears twice", quote(key))
		}
		seen[key] = true
		var dst *string
		switch key {
		case "phase":
			dst = (*string)(&p.Phase)
		case "run":
			dst = (*string)(&p.Run)
		case "account":
			dst = &p.Account
		default:
			return p, fmt.Errorf("worker payload: unknown field %s: a payload has only phase, run and account", quote(key))
		}
		v, err := dec.Token()
		if err != nil {
			return p, fmt.Errorf("worker payload: field %s: not valid JSON: %w", key, err)
		}
		s, ok := v.(string)
		if !ok {
			return p, fmt.Errorf("worker payload: field %s must be a string, got %s", key, jsonKind(v))
		}
		*dst = s
	}
	if _, err := dec.Token(); err != nil {
		return p, fmt.Errorf("worker payload: not valid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return p, errors.New("worker payload: something follows the object")
	}
	switch {
	case !seen["phase"]:
		return p, errors.New("worker payload: phase is missing (plan, decide, notify, execute or report)")
	case !seen["run"]:
		return p, errors.New("worker payload: run is missing")
	}
	return p, p.Validate()
}

// Validate checks a payload built in code or parsed.
func (p Payload) Validate() error {
	if !p.Phase.valid() {
		return fmt.Errorf("worker payload: phase %s must be plan, decide, notify, execute or report", quote(string(p.Phase)))
	}
	if err := p.Run.Validate(); err != nil {
		return fmt.Errorf("worker payload: %w", err)
	}
	switch {
	case p.Phase.PerAccount() && p.Account == "":
		return fmt.Errorf("worker payload: phase %s needs the account", p.Phase)
	case !p.Phase.PerAccount() && p.Account != "":
		return fmt.Errorf("worker payload: phase %s covers the whole run and takes no account (got %s)", p.Phase, quote(p.Account))
	case p.Account != "" && !ValidAccountID(p.Account):
		return fmt.Errorf("worker payload: account %s is not an account ID (6 to 20 digits, not starting with 0)", quote(p.Account))
	}
	return nil
}

// ValidAccountID reports whether id looks like an Alibaba Cloud account ID:
// 6 to 20 digits, the first not 0.
func ValidAccountID(id string) bool {
	if len(id) < 6 || len(id) > 20 || id[0] == '0' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

// RunID identifies one organisation-wide run: the timer's trigger time in
// UTC, to the second, as yyyymmddThhmmssZ.
type RunID string

// runLayout is RunID's time layout.
const runLayout = "20060102T150405Z"

// RunIDFromTrigger derives the run ID from a timer event's triggerTime
// (RFC 3339). The same instant always gives the same ID, whatever zone it
// is written in, so a repeated or retried tick names the same run.
func RunIDFromTrigger(triggerTime string) (RunID, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(triggerTime))
	if err != nil {
		return "", fmt.Errorf("the timer's triggerTime %s is not an RFC 3339 time such as 2026-12-06T09:00:00Z", quote(triggerTime))
	}
	t = t.UTC()
	if t.Year() < 2000 || t.Year() > 9999 {
		return "", fmt.Errorf("the timer's triggerTime %s is out of range (years 2000 to 9999)", quote(triggerTime))
	}
	return RunID(t.Truncate(time.Second).Format(runLayout)), nil
}

// Validate checks the run ID's form and that it is a real instant.
func (r RunID) Validate() error {
	t, err := time.Parse(runLayout, string(r))
	if err != nil || t.Format(runLayout) != string(r) || t.Year() < 2000 {
		return fmt.Errorf("run %s is not a run ID (the trigger time in UTC as yyyymmddThhmmssZ, e.g. 20261206T090000Z)", quote(string(r)))
	}
	return nil
}

// ExecutionPrefix starts every execution name: flow and execution names
// start with a letter or _, and hold letters, digits, _ and - only.
const ExecutionPrefix = "ecs-reaper-"

// ExecutionName is the CloudFlow execution of a run: unique per run, so a
// second start of the same run finds it (running or finished) instead of
// starting another.
func (r RunID) ExecutionName() string { return ExecutionPrefix + string(r) }

// WorkerRunID is the run ID one account's worker gives the engine, which
// puts it into every ClientToken: tokens then derive from the run, the
// account and (in the engine) the region and the batch, so a retried
// Execute resends the same tokens and two accounts never share one.
func (r RunID) WorkerRunID(account string) string { return string(r) + "/" + account }

func quote(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strconv.Quote(s)
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case json.Delim:
		return "an object or array"
	}
	return fmt.Sprintf("%T", v)
}
