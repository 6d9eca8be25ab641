package ecsdouble

import (
	"fmt"
	"math/rand"
	"strconv"
	"time"
)

// RegionIDs are 20 real Alibaba Cloud region IDs, in the order GenerateFleet
// uses them.
var RegionIDs = []string{
	"cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen", "cn-qingdao",
	"cn-zhangjiakou", "cn-huhehaote", "cn-wulanchabu", "cn-chengdu", "cn-guangzhou",
	"cn-heyuan", "cn-nanjing", "cn-fuzhou", "cn-hongkong", "ap-southeast-1",
	"ap-southeast-3", "ap-southeast-5", "ap-northeast-1", "us-west-1", "eu-central-1",
}

// idPrefix imitates the per-region prefix of real instance IDs.
var idPrefix = []string{
	"bp", "uf", "2ze", "wz9", "m5e", "8vb", "hp3", "0jl", "2vc", "7xv",
	"f8z", "gc7", "gw8", "j6c", "t4n", "8ps", "k1a", "6we", "rj9", "gw4",
}

// GenConfig describes a generated fleet.
type GenConfig struct {
	Seed      int64
	Instances int // opted-in instances (carry OptInKey)
	Regions   int // number of regions, 1..20 (RegionIDs order); default 1
	// NonEligibleShare of the opted-in instances must not be released; they
	// cycle through not-expired, deletion-protected, kept (KeepKey) and
	// Running (releasable only with Force).
	NonEligibleShare float64
	// PrePaidShare of the eligible instances are expired subscriptions
	// (Stopped, financial lock, ExpiredTime in the past); the rest are
	// Stopped PostPaid instances (ExpiredTime 2099-12-31T15:59Z).
	PrePaidShare float64
	Untagged     int    // extra instances without OptInKey
	ExtraTags    int    // extra tags per instance ("tag-1".."tag-N"), for ListTagResources realism
	LabelKinds   bool   // add a KindTag tag naming each instance's kind
	OptInKey     string // default "reaper-expires"
	KeepKey      string // default "reaper-keep"
	// Now anchors dates: expiries in the past are before it, future ones
	// after it. Zero means a fixed 2026-01-01 anchor with future expiries in
	// 2099, so the output is identical on every run and stays valid.
	Now time.Time
}

// Kinds of generated instances, written to KindTag when LabelKinds is set
// so tests can count expected outcomes.
const (
	KindEligiblePrePaid  = "eligible-prepaid"
	KindEligiblePostPaid = "eligible-postpaid"
	KindNotExpired       = "not-expired"
	KindProtected        = "protected"
	KindKept             = "kept"
	KindRunning          = "running"
	KindUntagged         = "untagged"
)

// KindTag is the tag key holding the generated instance's kind.
const KindTag = "gen-kind"

// GenerateFleet builds a deterministic fleet from cfg: the same cfg gives
// the same fleet. Instances are spread round-robin over the regions.
func GenerateFleet(cfg GenConfig) Fleet {
	if cfg.Regions < 1 {
		cfg.Regions = 1
	}
	cfg.Regions = min(cfg.Regions, len(RegionIDs))
	if cfg.OptInKey == "" {
		cfg.OptInKey = "reaper-expires"
	}
	if cfg.KeepKey == "" {
		cfg.KeepKey = "reaper-keep"
	}
	anchor, fixed := cfg.Now.UTC(), cfg.Now.IsZero()
	if fixed {
		anchor = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	rng := rand.New(rand.NewSource(cfg.Seed))
	past := func() time.Time { return anchor.Add(-time.Duration(1+rng.Intn(365*24*60)) * time.Minute) }
	future := func() time.Time {
		if fixed {
			return time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Intn(300)) * 24 * time.Hour)
		}
		return anchor.Add(time.Duration(30+rng.Intn(700)) * 24 * time.Hour)
	}
	const ecsTime = "2006-01-02T15:04Z"
	nonEligible := int(float64(cfg.Instances)*cfg.NonEligibleShare + 0.5)
	eligible := cfg.Instances - nonEligible
	prepaid := int(float64(eligible)*cfg.PrePaidShare + 0.5)
	total := cfg.Instances + cfg.Untagged
	f := Fleet{Instances: make([]Instance, 0, total)}
	nonKinds := []string{KindNotExpired, KindProtected, KindKept, KindRunning}
	for i := range total {
		ri := i % cfg.Regions
		in := Instance{ // Tags map sized for the opt-in, keep and kind tags
			ID:         fmt.Sprintf("i-%s%s%s", idPrefix[ri], pad36(i), randID(rng, 8)),
			Region:     RegionIDs[ri],
			Status:     "Stopped",
			ChargeType: "PostPaid",
			Tags:       make(map[string]string, 3+cfg.ExtraTags),
		}
		in.ExpiredTime = PostPaidExpiredTime
		in.CreationTime = past().Add(-time.Duration(30+rng.Intn(900)) * 24 * time.Hour).Format(ecsTime)
		for t := 1; t <= cfg.ExtraTags; t++ {
			in.Tags["tag-"+strconv.Itoa(t)] = "v" + strconv.Itoa(rng.Intn(100))
		}
		var kind string
		switch {
		case i < prepaid:
			kind = KindEligiblePrePaid
		case i < eligible:
			kind = KindEligiblePostPaid
		case i < cfg.Instances:
			kind = nonKinds[(i-eligible)%len(nonKinds)]
		default:
			kind = KindUntagged
		}
		if cfg.LabelKinds {
			in.Tags[KindTag] = kind
		}
		if kind != KindUntagged {
			in.Tags[cfg.OptInKey] = past().Format("2006-01-02")
		}
		switch kind {
		case KindEligiblePrePaid:
			in.ChargeType = "PrePaid"
			in.ExpiredTime = past().Format(ecsTime)
			in.LockReasons = []string{"financial"}
		case KindNotExpired:
			in.Tags[cfg.OptInKey] = future().Format("2006-01-02")
		case KindProtected:
			in.DeletionProtection = true
		case KindKept:
			in.Tags[cfg.KeepKey] = "true"
		case KindRunning:
			in.Status = "Running"
		case KindUntagged:
			if rng.Intn(2) == 0 {
				in.Status = "Running"
			}
		}
		f.Instances = append(f.Instances, in)
	}
	return f
}

func randID(rng *rand.Rand, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.Intn(len(alphabet))]
	}
	return string(b)
}

// pad36 is i in base 36, zero-padded to 7 digits, so IDs sort by index.
func pad36(i int) string {
	s := strconv.FormatInt(int64(i), 36)
	for len(s) < 7 {
		s = "0" + s
	}
	return s
}
