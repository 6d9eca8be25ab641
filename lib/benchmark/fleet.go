package benchmark

import (
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

// Credentials the benchmark's doubles accept and its clients sign with.
const (
	AccessKeyID     = "LTAI-bench"
	AccessKeySecret = "bench-secret"
)

// DefaultCases are the fleets: 1,000 / 10,000 / 100,000 opted-in
// instances over 1 / 5 / 20 regions.
const DefaultCases = "1000x1,1000x5,1000x20,10000x1,10000x5,10000x20,100000x1,100000x5,100000x20"

// DeployCases are the cases of what deploys (run at 100 ms a call): the
// large fleets, one region of a million with 1 % eligible, and one region
// of 100,000 again under the double's rate limit. They take long: opt in
// with reaper-bench --cases deploy.
const DeployCases = "10000x20,100000x20,100000x1,1000000x1:eligible=0.01:rate=50,100000x1:rate=50"

// Case is one benchmark case: opted-in instances spread over regions.
type Case struct {
	Instances int // opted-in instances, all regions together
	Regions   int // 1..20
	// Eligible is the share of opted-in instances that are eligible; 0
	// leaves it to the run's --non-eligible.
	Eligible float64
	// RateLimit is the double's limit, calls per second per action and
	// region; 0 is none.
	RateLimit int
}

// String is the case as ParseCases reads it, e.g. "10000x20" or
// "1000000x1:eligible=0.01:rate=50".
func (c Case) String() string {
	s := strconv.Itoa(c.Instances) + "x" + strconv.Itoa(c.Regions)
	if c.Eligible > 0 {
		s += ":eligible=" + strconv.FormatFloat(c.Eligible, 'g', -1, 64)
	}
	if c.RateLimit > 0 {
		s += ":rate=" + strconv.Itoa(c.RateLimit)
	}
	return s
}

// ParseCases reads a comma-separated list of INSTANCESxREGIONS cases, each
// optionally followed by :eligible=SHARE and :rate=CALLS_PER_SECOND;
// "deploy" stands for DeployCases.
func ParseCases(s string) ([]Case, error) {
	var out []Case
	s = strings.ReplaceAll(s, "deploy", DeployCases)
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		size, opts, _ := strings.Cut(part, ":")
		a, b, ok := strings.Cut(size, "x")
		n, err1 := strconv.Atoi(a)
		r, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || n < 1 || r < 1 || r > len(ecsdouble.RegionIDs) {
			return nil, fmt.Errorf("case %q: want INSTANCESxREGIONS with instances >= 1 and regions 1..%d", part, len(ecsdouble.RegionIDs))
		}
		c := Case{Instances: n, Regions: r}
		for opt := range strings.SplitSeq(opts, ":") {
			if opt == "" {
				continue
			}
			k, v, _ := strings.Cut(opt, "=")
			var err error
			switch k {
			case "eligible":
				c.Eligible, err = strconv.ParseFloat(v, 64)
				if err == nil && (c.Eligible <= 0 || c.Eligible > 1) {
					err = fmt.Errorf("out of (0, 1]")
				}
			case "rate":
				c.RateLimit, err = strconv.Atoi(v)
				if err == nil && c.RateLimit < 1 {
					err = fmt.Errorf("below 1")
				}
			default:
				err = fmt.Errorf("unknown option")
			}
			if err != nil {
				return nil, fmt.Errorf("case %q: option %q: %w (want eligible=SHARE or rate=N)", part, opt, err)
			}
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no cases in %q", s)
	}
	return out, nil
}

// FleetSpec describes a generated benchmark fleet; the same spec always
// gives the same fleet, so the sweep and the baseline see identical ones.
type FleetSpec struct {
	Case
	Seed int64
	// NonEligible is the share of opted-in instances that must not be
	// released (not expired, deletion-protected, kept, or Running).
	NonEligible float64
	// Untagged is the number of instances without the opt-in tag, as a
	// multiple of the opted-in ones (0.5 adds half as many again).
	Untagged float64
	// PrePaid is the share of eligible instances that are expired
	// subscriptions; they need TerminateSubscription=true, so they are
	// released in their own flag group.
	PrePaid float64
}

// DefaultSpec is the fleet the issue asks for: a fifth of the opted-in
// instances not eligible, no untagged instances, half the eligible ones
// expired subscriptions (two flag groups per region).
func DefaultSpec(c Case) FleetSpec {
	return FleetSpec{Case: c, Seed: 42, NonEligible: 0.2, PrePaid: 0.5}
}

// Generate builds the fleet. When it has untagged instances, the IDs of
// each region are shuffled so that tagged and untagged instances
// interleave in listing (ID) order, as in a real account; otherwise the
// generator's order would put every untagged instance last.
func (f FleetSpec) Generate() ecsdouble.Fleet {
	untagged := int(f.Untagged*float64(f.Instances) + 0.5)
	fleet := ecsdouble.GenerateFleet(ecsdouble.GenConfig{
		Seed: f.Seed, Instances: f.Instances, Regions: f.Regions, Untagged: untagged,
		NonEligibleShare: f.NonEligible, PrePaidShare: f.PrePaid,
	})
	if untagged == 0 {
		return fleet
	}
	rng := rand.New(rand.NewSource(f.Seed))
	byRegion := map[string][]int{}
	for i, in := range fleet.Instances {
		byRegion[in.Region] = append(byRegion[in.Region], i)
	}
	for _, region := range fleet.Regions() {
		idx := byRegion[region]
		ids := make([]string, len(idx))
		for j, i := range idx {
			ids[j] = fleet.Instances[i].ID
		}
		rng.Shuffle(len(ids), func(a, b int) { ids[a], ids[b] = ids[b], ids[a] })
		for j, i := range idx {
			fleet.Instances[i].ID = ids[j]
		}
	}
	return fleet
}

// Args is the spec as command-line flags of the serve-double command.
func (f FleetSpec) Args() []string {
	return []string{
		"--instances", strconv.Itoa(f.Instances), "--regions", strconv.Itoa(f.Regions),
		"--seed", strconv.FormatInt(f.Seed, 10),
		"--non-eligible", strconv.FormatFloat(f.NonEligible, 'g', -1, 64),
		"--untagged", strconv.FormatFloat(f.Untagged, 'g', -1, 64),
		"--prepaid", strconv.FormatFloat(f.PrePaid, 'g', -1, 64),
		"--rate-limit", strconv.Itoa(f.RateLimit),
	}
}

// RegionIDs are the case's regions, in GenerateFleet's order.
func (c Case) RegionIDs() []string { return append([]string(nil), ecsdouble.RegionIDs[:c.Regions]...) }

// Rules are the production decision rules (settings.Default).
func Rules() decide.Rules {
	d := settings.Default()
	return decide.Rules{OptInKey: d.TagKey, KeepKey: d.KeepTag, Force: d.Force, Location: d.Location}
}

// ToDecide converts a double's instance to what the API would report.
func ToDecide(in ecsdouble.Instance) decide.Instance {
	charge := in.ChargeType
	if charge == "" {
		charge = decide.ChargePostPaid
	}
	expired := in.ExpiredTime
	if expired == "" && charge == decide.ChargePostPaid {
		expired = ecsdouble.PostPaidExpiredTime
	}
	return decide.Instance{
		ID: in.ID, Region: in.Region, Status: in.Status, ChargeType: charge, ExpiredTime: expired,
		CreationTime: in.CreationTime, DeletionProtection: in.DeletionProtection,
		LockReasons: in.LockReasons, Tags: in.Tags,
	}
}

// Shapes summarises the fleet per region, in the order of regions, for the
// floor: instance counts, tag entries and eligible instances by flag group,
// decided with rules at now.
func Shapes(fleet ecsdouble.Fleet, regions []string, rules decide.Rules, now time.Time) []RegionShape {
	byRegion := make(map[string]*RegionShape, len(regions))
	out := make([]RegionShape, len(regions))
	for i, r := range regions {
		out[i] = RegionShape{Region: r, Eligible: map[decide.Flags]int{}}
		byRegion[r] = &out[i]
	}
	for _, in := range fleet.Instances {
		s := byRegion[in.Region]
		if s == nil {
			continue
		}
		s.Instances++
		if _, ok := in.Tags[rules.OptInKey]; ok {
			s.OptedIn++
			s.TagEntries += len(in.Tags)
		}
		if d := decide.Decide(ToDecide(in), rules, now); d.Release {
			s.Eligible[d.Flags]++
		}
	}
	return out
}
