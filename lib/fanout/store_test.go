package fanout_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
	"github.com/ecs-reaper/ecs-reaper/lib/ossdouble"
)

// Planted test values only.
const (
	testAK     = "LTAI5tTestOnlyStoreKey"
	testSecret = "test-only-store-secret-0123456789"
	testToken  = "test-only-sts-token"
	bucket     = "reaper-results"
)

func startOSS(t *testing.T) *ossdouble.Server {
	t.Helper()
	srv, err := ossdouble.Start(bucket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	srv.AddCredential(testAK, testSecret, testToken)
	return srv
}

func newStore(t *testing.T, srv *ossdouble.Server, secret string) *fanout.Store {
	t.Helper()
	st, err := fanout.NewStore(fanout.StoreConfig{Bucket: bucket, Region: "cn-hangzhou", Endpoint: srv.URL(),
		Credentials: func() (ecsapi.Credentials, error) {
			return ecsapi.Credentials{AccessKeyID: testAK, AccessKeySecret: secret, SecurityToken: testToken}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

type doc struct {
	Status string `json:"status"`
	N      int    `json:"n"`
}

const run = fanout.RunID("20261206T090000Z")

func TestStoreWritesOneKeyPerRunAccountAndPhase(t *testing.T) {
	srv := startOSS(t)
	st := newStore(t, srv, testSecret)
	ctx := context.Background()
	if err := st.Put(ctx, run, "1111111111111111", string(fanout.PhasePlan), doc{"planned", 1}); err != nil {
		t.Fatal(err)
	}
	// A retried worker overwrites its own result: still one key.
	if err := st.Put(ctx, run, "1111111111111111", string(fanout.PhasePlan), doc{"planned", 2}); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, run, "2222222222222222", string(fanout.PhasePlan), doc{"planned", 3}); err != nil {
		t.Fatal(err)
	}
	want := []string{"ecs-reaper/20261206T090000Z/1111111111111111/plan.json", "ecs-reaper/20261206T090000Z/2222222222222222/plan.json"}
	if got := srv.Keys(bucket); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("keys %v, want %v", got, want)
	}
	var got doc
	found, err := st.Get(ctx, run, "1111111111111111", string(fanout.PhasePlan), &got)
	if err != nil || !found || got != (doc{"planned", 2}) {
		t.Errorf("got %+v, %v, %v", got, found, err)
	}
	found, err = st.Get(ctx, run, "3333333333333333", string(fanout.PhasePlan), &got)
	if err != nil || found {
		t.Errorf("a missing document: found %v, %v", found, err)
	}
}

func TestStorePutOnceKeepsTheFirst(t *testing.T) {
	srv := startOSS(t)
	st := newStore(t, srv, testSecret)
	ctx := context.Background()
	created, err := st.PutOnce(ctx, run, fanout.OrgAccount, fanout.DocManifest, doc{"first", 1})
	if err != nil || !created {
		t.Fatalf("first: %v, %v", created, err)
	}
	created, err = st.PutOnce(ctx, run, fanout.OrgAccount, fanout.DocManifest, doc{"second", 2})
	if err != nil || created {
		t.Fatalf("second: %v, %v", created, err)
	}
	var got doc
	if _, err := st.Get(ctx, run, fanout.OrgAccount, fanout.DocManifest, &got); err != nil || got.Status != "first" {
		t.Errorf("got %+v, %v", got, err)
	}
}

func TestStoreListsAccountsAcrossPages(t *testing.T) {
	srv := startOSS(t)
	srv.SetMaxKeys(2)
	st := newStore(t, srv, testSecret)
	ctx := context.Background()
	accounts := []string{"1111111111111111", "2222222222222222", "3333333333333333", "4444444444444444", "5555555555555555"}
	for _, a := range accounts {
		if err := st.Put(ctx, run, a, string(fanout.PhasePlan), doc{}); err != nil {
			t.Fatal(err)
		}
	}
	_ = st.Put(ctx, run, accounts[0], string(fanout.PhaseExecute), doc{})
	_ = st.Put(ctx, run, fanout.OrgAccount, string(fanout.PhaseDecide), doc{})
	_ = st.Put(ctx, "20261206T100000Z", "6666666666666666", string(fanout.PhasePlan), doc{})
	got, err := st.Accounts(ctx, run, string(fanout.PhasePlan))
	if err != nil || strings.Join(got, ",") != strings.Join(accounts, ",") {
		t.Errorf("got %v, %v", got, err)
	}
	lists := 0
	for _, c := range srv.Calls() {
		if c.Op == "ListObjectsV2" {
			lists++
		}
	}
	if lists < 4 {
		t.Errorf("%d ListObjectsV2 calls for 8 keys at 2 a page", lists)
	}
}

func TestStoreRetriesAServiceHiccup(t *testing.T) {
	srv := startOSS(t)
	st := newStore(t, srv, testSecret)
	srv.FailNext("PutObject", 1)
	if err := st.Put(context.Background(), run, "1111111111111111", "plan", doc{}); err != nil {
		t.Fatalf("one 503 then success: %v", err)
	}
}

func TestStoreErrorsAreClassifiedAndShowNoSecret(t *testing.T) {
	srv := startOSS(t)
	st := newStore(t, srv, "not-the-secret-at-all-0123456789")
	err := st.Put(context.Background(), run, "1111111111111111", "plan", doc{})
	if err == nil || ecsapi.Code(err) != "SignatureDoesNotMatch" || ecsapi.Classify(err) != ecsapi.ClassCredential {
		t.Fatalf("wrong secret: %v (code %q)", err, ecsapi.Code(err))
	}
	for _, s := range []string{testAK, testToken, "not-the-secret"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error shows %q: %v", s, err)
		}
	}
	var got doc
	if _, err := st.Get(context.Background(), run, "1111111111111111", "plan", &got); ecsapi.Classify(err) != ecsapi.ClassCredential {
		t.Errorf("a read with the wrong secret: %v", err)
	}
}

func TestStoreRefusesWhatIsNotItsDocument(t *testing.T) {
	srv := startOSS(t)
	st := newStore(t, srv, testSecret)
	srv.Put(bucket, st.Key(run, "1111111111111111", "plan"), []byte(`{"status":"planned","extra":1}`))
	var got doc
	if _, err := st.Get(context.Background(), run, "1111111111111111", "plan", &got); err == nil || !strings.Contains(err.Error(), "not a valid plan document") {
		t.Errorf("unknown field: %v", err)
	}
}

func TestStoreEndpointRules(t *testing.T) {
	creds := func() (ecsapi.Credentials, error) { return ecsapi.Credentials{}, nil }
	for _, ep := range []string{"http://oss-cn-hangzhou.aliyuncs.com", "https://user:pw@oss.example.com", "ftp://127.0.0.1"} {
		_, err := fanout.NewStore(fanout.StoreConfig{Bucket: bucket, Region: "cn-hangzhou", Endpoint: ep, Credentials: creds})
		if err == nil || strings.Contains(err.Error(), "pw@") {
			t.Errorf("%s: %v", ep, err)
		}
	}
}

// The double checks the signature itself: a request signed by nobody is
// refused.
func TestOSSDoubleRefusesUnsignedRequests(t *testing.T) {
	srv := startOSS(t)
	resp, err := http.Get(srv.URL() + "/" + bucket + "/x")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// The run's listing goes through the shared pager: a store that hands out
// the same continuation token again stops the listing at once, not at the
// deadline.
func TestStoreListingStopsOnACyclingToken(t *testing.T) {
	srv := startOSS(t)
	srv.SetMaxKeys(2)
	st := newStore(t, srv, testSecret)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, a := range []string{"1111111111111111", "2222222222222222", "3333333333333333"} {
		if err := st.Put(ctx, run, a, string(fanout.PhasePlan), doc{}); err != nil {
			t.Fatal(err)
		}
	}
	srv.CycleListing()
	got, err := st.Accounts(ctx, run, string(fanout.PhasePlan))
	if err == nil || !strings.Contains(err.Error(), "guard") || ctx.Err() != nil {
		t.Fatalf("Accounts = %v, %v: want a pager guard, before the deadline", got, err)
	}
	lists := 0
	for _, c := range srv.Calls() {
		if c.Op == "ListObjectsV2" {
			lists++
		}
	}
	if lists > 3 {
		t.Errorf("%d ListObjectsV2 calls for a listing that cycles at its second page", lists)
	}
}
