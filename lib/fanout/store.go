package fanout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	osscreds "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/page"
)

// DefaultResultPrefix is REAPER_RESULT_PREFIX's default.
const DefaultResultPrefix = "ecs-reaper/"

// OrgAccount is the account segment of the keys that cover the whole run
// (the manifest, the decision, the report): account IDs are digits, so it
// never names an account.
const OrgAccount = "org"

// Documents in the store, besides the phases' own.
const (
	DocManifest = "manifest" // the accounts of the run, written once by the coordinator
)

// MaxDocumentBytes bounds one document read back: a plan lists the IDs an
// account would release (about 30 bytes each), far below this; a larger
// object is not ours and is refused rather than read into 128 MB.
const MaxDocumentBytes = 32 << 20

// Key is a document's object key: prefix, run, account (or "org") and
// document, e.g. ecs-reaper/20261206T090000Z/1234567890123456/plan.json.
// One key per run, account and phase: a retried worker overwrites its own.
func Key(prefix string, run RunID, account, doc string) string {
	return prefix + string(run) + "/" + account + "/" + doc + ".json"
}

// StoreConfig says where the run's documents live.
type StoreConfig struct {
	Bucket   string // REAPER_RESULT_BUCKET
	Prefix   string // REAPER_RESULT_PREFIX
	Region   string // the bucket's region (the function's own)
	Endpoint string // REAPER_OSS_ENDPOINT; "" = the SDK's for the region
	// Credentials gives the function's current credentials (STS in FC).
	Credentials func() (ecsapi.Credentials, error)
}

// Store reads and writes the run's documents in OSS.
type Store struct {
	client *oss.Client
	bucket string
	prefix string
}

// NewStore builds the OSS client. The endpoint follows the ECS endpoint's
// rules (cloud.ParseEndpoint): https, or plain http on loopback only.
func NewStore(cfg StoreConfig) (*Store, error) {
	if cfg.Bucket == "" || cfg.Region == "" || cfg.Credentials == nil {
		return nil, errors.New("result store: the bucket, its region and credentials are required")
	}
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = DefaultResultPrefix
	}
	conf := oss.LoadDefaultConfig().
		WithRegion(cfg.Region).
		WithRetryMaxAttempts(3).
		WithConnectTimeout(10 * time.Second).
		WithReadWriteTimeout(60 * time.Second).
		WithCredentialsProvider(osscreds.CredentialsProviderFunc(func(context.Context) (osscreds.Credentials, error) {
			c, err := cfg.Credentials()
			if err != nil {
				return osscreds.Credentials{}, err
			}
			return osscreds.Credentials{AccessKeyID: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken}, nil
		}))
	if cfg.Endpoint != "" {
		scheme, host, err := cloud.ParseEndpoint(cfg.Endpoint)
		if err != nil {
			return nil, fmt.Errorf("result store: the OSS endpoint %s %w", cloud.RedactEndpoint(cfg.Endpoint), err)
		}
		conf = conf.WithEndpoint(strings.ToLower(scheme) + "://" + host)
		if scheme == "HTTP" {
			conf = conf.WithDisableSSL(true)
		}
	}
	return &Store{client: oss.NewClient(conf), bucket: cfg.Bucket, prefix: prefix}, nil
}

// Key is the object key of a document of this store.
func (s *Store) Key(run RunID, account, doc string) string { return Key(s.prefix, run, account, doc) }

// Put writes a document as JSON, replacing any earlier one (a retried
// worker's result overwrites its own).
func (s *Store) Put(ctx context.Context, run RunID, account, doc string, v any) error {
	_, err := s.put(ctx, run, account, doc, v, false)
	return err
}

// PutOnce writes a document only if there is none yet; created is false
// when one was there (it is left as it was).
func (s *Store) PutOnce(ctx context.Context, run RunID, account, doc string, v any) (created bool, err error) {
	return s.put(ctx, run, account, doc, v, true)
}

func (s *Store) put(ctx context.Context, run RunID, account, doc string, v any, once bool) (bool, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return false, fmt.Errorf("result store: encode %s: %w", doc, err)
	}
	key := s.Key(run, account, doc)
	req := &oss.PutObjectRequest{Bucket: oss.Ptr(s.bucket), Key: oss.Ptr(key), Body: bytes.NewReader(body), ContentType: oss.Ptr("application/json")}
	if once {
		req.ForbidOverwrite = oss.Ptr("true")
	}
	if _, err := s.client.PutObject(ctx, req); err != nil {
		e := storeError("PutObject", s.bucket, key, err)
		if once && ecsapi.Classify(e) == ecsapi.ClassAlreadyExists {
			return false, nil
		}
		return false, e
	}
	return true, nil
}

// Get reads a document into v; found is false when there is none.
func (s *Store) Get(ctx context.Context, run RunID, account, doc string, v any) (found bool, err error) {
	key := s.Key(run, account, doc)
	res, err := s.client.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(s.bucket), Key: oss.Ptr(key)})
	if err != nil {
		e := storeError("GetObject", s.bucket, key, err)
		if ecsapi.Classify(e) == ecsapi.ClassNotFound {
			return false, nil
		}
		return false, e
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, MaxDocumentBytes+1))
	if err != nil {
		return false, fmt.Errorf("result store: read oss://%s/%s: %w", s.bucket, key, err)
	}
	if len(b) > MaxDocumentBytes {
		return false, fmt.Errorf("result store: oss://%s/%s is larger than %d bytes: not a document of this run", s.bucket, key, MaxDocumentBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return false, fmt.Errorf("result store: oss://%s/%s is not a valid %s document: %w", s.bucket, key, doc, err)
	}
	return true, nil
}

// Accounts lists the accounts that hold a document doc in the run, sorted
// (keys are listed in order), through the shared pager: a continuation
// token handed out twice, or a page that lists nothing new, stops the
// listing instead of reading it until the deadline.
func (s *Store) Accounts(ctx context.Context, run RunID, doc string) ([]string, error) {
	prefix := s.prefix + string(run) + "/"
	var out []string
	seen := page.Seen{}
	pages := page.Listing{Name: "oss ListObjectsV2", PageSize: maxListKeys}.Tokens()
	err := pages.Run(ctx, func(ctx context.Context, token string) (page.Page, error) {
		req := &oss.ListObjectsV2Request{Bucket: oss.Ptr(s.bucket), Prefix: oss.Ptr(prefix), MaxKeys: maxListKeys, EncodingType: oss.Ptr("url")}
		if token != "" {
			req.ContinuationToken = oss.Ptr(token)
		}
		res, err := s.client.ListObjectsV2(ctx, req)
		if err != nil {
			return page.Page{}, storeError("ListObjectsV2", s.bucket, prefix, err)
		}
		fresh := 0
		for _, o := range res.Contents {
			key := oss.ToString(o.Key)
			if !seen.Add(key) {
				continue
			}
			fresh++
			account, name, ok := strings.Cut(strings.TrimPrefix(key, prefix), "/")
			if ok && name == doc+".json" && ValidAccountID(account) {
				out = append(out, account)
			}
		}
		next := ""
		if res.IsTruncated {
			if next = oss.ToString(res.NextContinuationToken); next == "" {
				return page.Page{}, fmt.Errorf("result store: oss://%s/%s: a truncated listing without a continuation token", s.bucket, prefix)
			}
		}
		return page.Page{Next: next, Items: len(res.Contents), Fresh: fresh}, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// maxListKeys is ListObjectsV2's largest page.
const maxListKeys = 1000

// storeError turns the SDK's error into an ecsapi.Error classified by the
// service's code (never by its text, which names the endpoint).
func storeError(op, bucket, key string, err error) error {
	e := &ecsapi.Error{Action: "oss " + op, Code: ecsapi.CodeTransport}
	var se *oss.ServiceError
	switch {
	case errors.As(err, &se):
		e.Code, e.HTTPStatus, e.RequestID = se.Code, se.StatusCode, se.RequestID
		e.Message = fmt.Sprintf("oss://%s/%s", bucket, key)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e.Code = ecsapi.CodeCanceled
		e.Message = fmt.Sprintf("oss://%s/%s", bucket, key)
	default:
		e.Message = fmt.Sprintf("oss://%s/%s: the request did not complete", bucket, key)
	}
	e.Class = ecsapi.ClassifyCode(e.Code, e.HTTPStatus)
	return e
}
