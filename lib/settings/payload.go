package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/ecs-reaper/ecs-reaper/lib/org"
)

// Overrides are the per-run changes a timer trigger's payload may make.
// A nil field leaves the setting as it is.
type Overrides struct {
	DryRun     *bool    `json:"dryRun"`
	Regions    []string `json:"regions"`
	MaxRelease *int     `json:"maxRelease"`
	// Accounts narrows the run to some of REAPER_ACCOUNTS' accounts
	// (account IDs, or "self").
	Accounts []string `json:"accounts"`
}

// ParsePayload parses a timer trigger's payload. An empty or blank payload
// means no overrides. Otherwise it must be exactly one JSON object with
// only these fields, each at most once, spelled exactly so:
//
//	"dryRun":     true or false
//	"regions":    a non-empty array of distinct region IDs, e.g. ["cn-hangzhou"]
//	"maxRelease": a whole number >= 0
//	"accounts":   a non-empty array of account IDs (or "self"), among REAPER_ACCOUNTS'
//
// null values, unknown or repeated fields, wrong types and anything after
// the object are errors naming the problem.
func ParsePayload(payload string) (Overrides, error) {
	var o Overrides
	if strings.TrimSpace(payload) == "" {
		return o, nil
	}
	dec := json.NewDecoder(strings.NewReader(payload))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return Overrides{}, fmt.Errorf("payload is not JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return Overrides{}, fmt.Errorf("payload must be a JSON object like {\"dryRun\": true}, got %s", describeToken(tok))
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Overrides{}, fmt.Errorf("payload is not valid JSON: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return Overrides{}, fmt.Errorf("payload is not valid JSON: unexpected %v", tok)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return Overrides{}, fmt.Errorf("payload field %q: value is not valid JSON: %w", key, err)
		}
		if seen[key] {
			return Overrides{}, fmt.Errorf("payload field %q appears more than once", key)
		}
		seen[key] = true
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			return Overrides{}, fmt.Errorf("payload field %q is null: leave the field out instead", key)
		}
		switch key {
		case "dryRun":
			var b bool
			if err := json.Unmarshal(raw, &b); err != nil {
				return Overrides{}, fmt.Errorf("payload field \"dryRun\" must be true or false, got %s", snippet(raw))
			}
			o.DryRun = &b
		case "maxRelease":
			var n int
			if err := json.Unmarshal(raw, &n); err != nil || n < 0 {
				return Overrides{}, fmt.Errorf("payload field \"maxRelease\" must be a whole number >= 0, got %s", snippet(raw))
			}
			o.MaxRelease = &n
		case "regions":
			var rs []string
			if err := json.Unmarshal(raw, &rs); err != nil {
				return Overrides{}, fmt.Errorf("payload field \"regions\" must be an array of region ID strings, got %s", snippet(raw))
			}
			if len(rs) == 0 {
				return Overrides{}, errors.New("payload field \"regions\" must not be empty: leave the field out to keep the configured regions")
			}
			if err := checkRegions(rs); err != nil {
				return Overrides{}, fmt.Errorf("payload field \"regions\": %w", err)
			}
			o.Regions = rs
		case "accounts":
			var ids []string
			if err := json.Unmarshal(raw, &ids); err != nil {
				return Overrides{}, fmt.Errorf("payload field \"accounts\" must be an array of account ID strings, got %s", snippet(raw))
			}
			if len(ids) == 0 {
				return Overrides{}, errors.New("payload field \"accounts\" must not be empty: leave the field out to keep the configured accounts")
			}
			for _, id := range ids {
				if strings.Contains(id, ",") {
					return Overrides{}, fmt.Errorf("payload field \"accounts\": %q is not an account ID (digits only)", id)
				}
			}
			parsed, err := org.ParseIDs(strings.Join(ids, ","))
			if err != nil {
				return Overrides{}, fmt.Errorf("payload field \"accounts\": %w", err)
			}
			o.Accounts = parsed
		default:
			return Overrides{}, fmt.Errorf("payload field %q is unknown (known: dryRun, regions, maxRelease, accounts)", key)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return Overrides{}, fmt.Errorf("payload is not valid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Overrides{}, errors.New("payload has data after the JSON object")
	}
	return o, nil
}

// Apply returns s with the overrides applied. Regions, when given, replace
// the configured regions (and turn AllRegions off). Overrides from
// ParsePayload keep valid settings valid; for others, call Validate.
func (s Settings) Apply(o Overrides) Settings {
	if o.DryRun != nil {
		s.DryRun = *o.DryRun
	}
	if o.Regions != nil {
		s.Regions = append([]string(nil), o.Regions...)
		s.AllRegions = false
	}
	if o.MaxRelease != nil {
		s.MaxRelease = *o.MaxRelease
	}
	if o.Accounts != nil {
		s.NarrowAccounts = slices.Clone(o.Accounts)
	}
	return s
}

// Narrow returns s with a timer payload's overrides applied. A payload may
// only narrow what the environment allows, never widen it: dryRun may turn
// a dry run on, not off; maxRelease may only lower REAPER_MAX_RELEASE;
// regions must be among REAPER_REGIONS (any region when it is "all", the
// function's own region when it is unset). A payload that would widen is
// an error naming the field and the setting it would exceed.
func (s Settings) Narrow(o Overrides, ownRegion string) (Settings, error) {
	var errs []error
	if o.DryRun != nil && !*o.DryRun && s.DryRun {
		errs = append(errs, fmt.Errorf("payload field \"dryRun\": false would turn off %s=true; a payload may only turn a dry run on", EnvDryRun))
	}
	if o.MaxRelease != nil && *o.MaxRelease > s.MaxRelease {
		errs = append(errs, fmt.Errorf("payload field \"maxRelease\": %d exceeds %s=%d; a payload may only lower it", *o.MaxRelease, EnvMaxRelease, s.MaxRelease))
	}
	if o.Regions != nil && !s.AllRegions {
		allowed, from := s.Regions, EnvRegions+"="+strings.Join(s.Regions, ",")
		if len(allowed) == 0 {
			allowed, from = []string{ownRegion}, EnvRegions+" unset (the function's own region "+strconv.Quote(ownRegion)+")"
		}
		var outside []string
		for _, r := range o.Regions {
			if !slices.Contains(allowed, r) || r == "" {
				outside = append(outside, r)
			}
		}
		if len(outside) > 0 {
			errs = append(errs, fmt.Errorf("payload field \"regions\": %s not within %s; a payload may only choose among the configured regions", strings.Join(outside, ", "), from))
		}
	}
	if o.Accounts != nil {
		if err := s.narrowsAccounts(o.Accounts); err != nil {
			errs = append(errs, fmt.Errorf("payload field \"accounts\": %w", err))
		}
	}
	if len(errs) > 0 {
		return s, errors.Join(errs...)
	}
	return s.Apply(o), nil
}

// narrowsAccounts checks what can be checked before the accounts are
// resolved: the function's own account alone takes only "self"; a list of
// IDs only its own. The members of rd are checked once listed.
func (s Settings) narrowsAccounts(ids []string) error {
	sel, err := s.Accounts()
	if err != nil {
		return err
	}
	var outside []string
	for _, id := range ids {
		switch {
		case id == "self" && (sel.Self || !sel.Multi()):
		case id == "self", !sel.Multi():
			outside = append(outside, id)
		case !sel.RD && !slices.Contains(sel.IDs, id):
			outside = append(outside, id)
		}
	}
	if len(outside) > 0 {
		return fmt.Errorf("%s not among %s=%q; a payload may narrow the accounts, never widen them", strings.Join(outside, ", "), EnvAccounts, s.AccountsSpec)
	}
	return nil
}

// describeToken names the kind of a top-level JSON value.
func describeToken(tok json.Token) string {
	switch t := tok.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case json.Delim:
		if t == '[' {
			return "an array"
		}
	}
	return fmt.Sprintf("%v", tok)
}

// snippet shows a raw JSON value in an error, shortened.
func snippet(raw json.RawMessage) string {
	s := string(bytes.TrimSpace(raw))
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return s
}
