// Package ossdouble is an in-process OSS double on 127.0.0.1 for the
// fan-out's result store: PutObject (with x-oss-forbid-overwrite),
// GetObject and ListObjectsV2 on path-style URLs, answering as OSS does
// (XML errors with a Code, the CRC-64 header), and accepting a request
// only when its OSS V4 signature (OSS4-HMAC-SHA256, as
// github.com/aliyun/alibabacloud-oss-go-sdk-v2's signer computes it) is
// right for a credential it was given. Nothing leaves the machine.
package ossdouble

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash/crc64"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is a running OSS double. Its methods are safe for concurrent use.
type Server struct {
	hs  *http.Server
	url string

	mu      sync.Mutex
	creds   map[string]cred // by AccessKey ID
	buckets map[string]map[string]object
	calls   []Call
	seq     int
	fail    map[string]int // operation → how many more requests fail with 503
	failKey map[string]int // key → how many more requests on it fail with 503
	maxKeys int            // page size cap for ListObjectsV2 (tests of paging)
	cycle   bool           // ListObjectsV2 ignores its continuation token (a faulty server)
	now     func() time.Time
}

type cred struct{ secret, token string }

type object struct {
	data     []byte
	modified time.Time
}

// Call is one request as the double saw it.
type Call struct {
	Op, Bucket, Key string
	Status          int
	Code            string
}

// Start serves on a loopback port; buckets are created empty.
func Start(buckets ...string) (*Server, error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{creds: map[string]cred{}, buckets: map[string]map[string]object{}, fail: map[string]int{}, failKey: map[string]int{}, maxKeys: 1000, now: time.Now}
	for _, b := range buckets {
		s.buckets[b] = map[string]object{}
	}
	s.url = "http://" + ln.Addr().String()
	s.hs = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.hs.Serve(ln) }()
	return s, nil
}

// URL is the endpoint to give the SDK (an IP, so it uses path style).
func (s *Server) URL() string { return s.url }

// Close stops the server.
func (s *Server) Close() error { return s.hs.Close() }

// AddCredential accepts an AccessKey (token "" for a plain AccessKey).
func (s *Server) AddCredential(id, secret, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds[id] = cred{secret, token}
}

// FailNext makes the next n requests of op (PutObject, GetObject,
// ListObjectsV2) fail with 503 ServiceUnavailable.
func (s *Server) FailNext(op string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[op] = n
}

// FailKey makes the next n requests on key (any operation) fail with 503
// ServiceUnavailable; 0 ends it.
func (s *Server) FailKey(key string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failKey[key] = n
}

// SetMaxKeys caps the keys of one ListObjectsV2 page.
func (s *Server) SetMaxKeys(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxKeys = n
}

// CycleListing makes ListObjectsV2 ignore the continuation token, as a
// faulty server would: every page is the first, handing out the same
// token again.
func (s *Server) CycleListing() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cycle = true
}

// Object returns an object's content.
func (s *Server) Object(bucket, key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.buckets[bucket][key]
	return o.data, ok
}

// Put stores an object directly (a test's fixture).
func (s *Server) Put(bucket, key string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buckets[bucket][key] = object{data: append([]byte(nil), data...), modified: s.now()}
}

// Keys lists a bucket's keys, sorted.
func (s *Server) Keys(bucket string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.buckets[bucket]))
	for k := range s.buckets[bucket] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Calls returns the requests seen so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

type ossError struct {
	status        int
	code, message string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	reqID := fmt.Sprintf("6551DBCF4311A7303980%04X", s.seq)
	w.Header().Set("x-oss-request-id", reqID)
	w.Header().Set("Server", "AliyunOSS")
	bucket, key := splitPath(r.URL.Path)
	op := operation(r, key)
	call := Call{Op: op, Bucket: bucket, Key: key}
	reply := func(e *ossError) {
		call.Status, call.Code = e.status, e.code
		s.calls = append(s.calls, call)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(e.status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId><HostId>%s.oss-cn-hangzhou.aliyuncs.com</HostId><EC>0000-00000000</EC></Error>`,
			e.code, xmlEscape(e.message), reqID, xmlEscape(bucket))
	}
	if e := s.authenticate(r, bucket, key); e != nil {
		reply(e)
		return
	}
	if s.failKey[key] > 0 {
		s.failKey[key]--
		reply(&ossError{503, "ServiceUnavailable", "Please reduce your request rate."})
		return
	}
	if s.fail[op] > 0 {
		s.fail[op]--
		reply(&ossError{503, "ServiceUnavailable", "Please reduce your request rate."})
		return
	}
	objects, ok := s.buckets[bucket]
	if !ok {
		reply(&ossError{404, "NoSuchBucket", "The specified bucket does not exist."})
		return
	}
	switch op {
	case "PutObject":
		data, err := io.ReadAll(io.LimitReader(r.Body, 5<<30))
		if err != nil {
			reply(&ossError{400, "InvalidArgument", "the body could not be read"})
			return
		}
		if md := r.Header.Get("Content-MD5"); md != "" {
			sum := md5.Sum(data)
			if md != base64.StdEncoding.EncodeToString(sum[:]) {
				reply(&ossError{400, "InvalidDigest", "The Content-MD5 you specified was invalid."})
				return
			}
		}
		if _, exists := objects[key]; exists && strings.EqualFold(r.Header.Get("x-oss-forbid-overwrite"), "true") {
			reply(&ossError{409, "FileAlreadyExists", "The object you specified already exists and can not be overwritten."})
			return
		}
		objects[key] = object{data: data, modified: s.now()}
		w.Header().Set("ETag", etag(data))
		w.Header().Set("x-oss-hash-crc64ecma", crc(data))
		call.Status = 200
		s.calls = append(s.calls, call)
		w.WriteHeader(200)
	case "GetObject":
		o, ok := objects[key]
		if !ok {
			reply(&ossError{404, "NoSuchKey", "The specified key does not exist."})
			return
		}
		w.Header().Set("ETag", etag(o.data))
		w.Header().Set("Content-Length", strconv.Itoa(len(o.data)))
		w.Header().Set("Last-Modified", o.modified.UTC().Format(http.TimeFormat))
		w.Header().Set("x-oss-hash-crc64ecma", crc(o.data))
		call.Status = 200
		s.calls = append(s.calls, call)
		w.WriteHeader(200)
		_, _ = w.Write(o.data)
	case "ListObjectsV2":
		s.list(w, r, bucket, objects, &call)
	default:
		reply(&ossError{405, "MethodNotAllowed", "The double serves PutObject, GetObject and ListObjectsV2 only."})
	}
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, bucket string, objects map[string]object, call *Call) {
	q := r.URL.Query()
	prefix := q.Get("prefix")
	max := s.maxKeys
	if v := q.Get("max-keys"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 && n < max {
			max = n
		}
	}
	after := q.Get("start-after")
	if tok := q.Get("continuation-token"); tok != "" && !s.cycle {
		after = tok
	}
	var keys []string
	for k := range objects {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	truncated := len(keys) > max
	if truncated {
		keys = keys[:max]
	}
	type content struct {
		Key          string `xml:"Key"`
		LastModified string `xml:"LastModified"`
		ETag         string `xml:"ETag"`
		Size         int    `xml:"Size"`
		StorageClass string `xml:"StorageClass"`
	}
	type result struct {
		XMLName               xml.Name  `xml:"ListBucketResult"`
		Name                  string    `xml:"Name"`
		Prefix                string    `xml:"Prefix"`
		MaxKeys               int       `xml:"MaxKeys"`
		EncodingType          string    `xml:"EncodingType,omitempty"`
		IsTruncated           bool      `xml:"IsTruncated"`
		KeyCount              int       `xml:"KeyCount"`
		NextContinuationToken string    `xml:"NextContinuationToken,omitempty"`
		Contents              []content `xml:"Contents"`
	}
	enc := func(k string) string { return k }
	res := result{Name: bucket, Prefix: prefix, MaxKeys: max, IsTruncated: truncated, KeyCount: len(keys)}
	if q.Get("encoding-type") == "url" {
		res.EncodingType = "url"
		enc = url.QueryEscape
		res.Prefix = enc(prefix)
	}
	for _, k := range keys {
		o := objects[k]
		res.Contents = append(res.Contents, content{Key: enc(k), LastModified: o.modified.UTC().Format("2006-01-02T15:04:05.000Z"), ETag: etag(o.data), Size: len(o.data), StorageClass: "Standard"})
	}
	if truncated {
		res.NextContinuationToken = enc(keys[len(keys)-1])
	}
	call.Status = 200
	s.calls = append(s.calls, *call)
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(200)
	_ = xml.NewEncoder(w).Encode(res)
}

func operation(r *http.Request, key string) string {
	switch {
	case r.Method == http.MethodPut && key != "":
		return "PutObject"
	case r.Method == http.MethodGet && key != "":
		return "GetObject"
	case r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2":
		return "ListObjectsV2"
	}
	return r.Method
}

// splitPath reads a path-style URL: /bucket/key.
func splitPath(p string) (bucket, key string) {
	p = strings.TrimPrefix(p, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

// authenticate checks the OSS V4 signature the SDK sends in the
// Authorization header, the date's skew and the security token.
func (s *Server) authenticate(r *http.Request, bucket, key string) *ossError {
	denied := func(code, msg string) *ossError { return &ossError{403, code, msg} }
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "OSS4-HMAC-SHA256 ")
	if !ok {
		return denied("AccessDenied", "The double accepts OSS V4 signatures (OSS4-HMAC-SHA256) only.")
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[3] != "oss" || scope[4] != "aliyun_v4_request" {
		return denied("InvalidArgument", "Credential must be AccessKeyId/date/region/oss/aliyun_v4_request.")
	}
	c, known := s.creds[scope[0]]
	if !known {
		return denied("InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.")
	}
	if tok := r.Header.Get("x-oss-security-token"); tok != c.token {
		return denied("InvalidSecurityToken", "The security token you provided is invalid.")
	}
	datetime := r.Header.Get("x-oss-date")
	t, err := time.Parse("20060102T150405Z", datetime)
	if err != nil || t.Format("20060102") != scope[1] {
		return denied("AccessDenied", "x-oss-date is missing or does not match the credential's date.")
	}
	if d := s.now().Sub(t); d > 15*time.Minute || d < -15*time.Minute {
		return denied("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
	}
	var additional []string
	if a := fields["AdditionalHeaders"]; a != "" {
		additional = strings.Split(a, ";")
	}
	canonical := canonicalRequest(r, bucket, key, additional)
	h := sha256.Sum256([]byte(canonical))
	stringToSign := "OSS4-HMAC-SHA256\n" + datetime + "\n" + strings.Join(scope[1:], "/") + "\n" + hex.EncodeToString(h[:])
	if sig := signature(c.secret, scope[1], scope[2], stringToSign); !hmac.Equal([]byte(sig), []byte(fields["Signature"])) {
		return denied("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
	}
	return nil
}

// canonicalRequest follows the OSS V4 rules (the SDK's signer/v4.go).
func canonicalRequest(r *http.Request, bucket, key string, additional []string) string {
	uri := "/"
	if bucket != "" {
		uri += bucket + "/"
	}
	uri += key
	query := strings.ReplaceAll(r.URL.RawQuery, "+", "%20")
	values := map[string]string{}
	var params []string
	for query != "" {
		var kv string
		kv, query, _ = strings.Cut(query, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		values[k] = v
		params = append(params, k)
	}
	sort.Strings(params)
	var q strings.Builder
	for _, k := range params {
		if q.Len() > 0 {
			q.WriteByte('&')
		}
		q.WriteString(k)
		if values[k] != "" {
			q.WriteString("=" + values[k])
		}
	}
	extra := map[string]bool{}
	for _, a := range additional {
		extra[strings.ToLower(a)] = true
	}
	var names []string
	for k := range r.Header {
		low := strings.ToLower(k)
		if strings.HasPrefix(low, "x-oss-") || low == "content-type" || low == "content-md5" || extra[low] {
			names = append(names, low)
		}
	}
	sort.Strings(names)
	var hdr strings.Builder
	for _, k := range names {
		vals := r.Header.Values(k)
		trimmed := make([]string, len(vals))
		for i, v := range vals {
			trimmed[i] = strings.TrimSpace(v)
		}
		hdr.WriteString(k + ":" + strings.Join(trimmed, ",") + "\n")
	}
	payload := r.Header.Get("x-oss-content-sha256")
	if payload == "" {
		payload = "UNSIGNED-PAYLOAD"
	}
	return r.Method + "\n" + escapePath(uri) + "\n" + q.String() + "\n" + hdr.String() + "\n" + strings.Join(additional, ";") + "\n" + payload
}

func escapePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || c == '/' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func signature(secret, date, region, stringToSign string) string {
	mac := func(key []byte, data string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(data))
		return h.Sum(nil)
	}
	k := mac([]byte("aliyun_v4"+secret), date)
	k = mac(k, region)
	k = mac(k, "oss")
	k = mac(k, "aliyun_v4_request")
	return hex.EncodeToString(mac(k, stringToSign))
}

func etag(data []byte) string {
	sum := md5.Sum(data)
	return `"` + strings.ToUpper(hex.EncodeToString(sum[:])) + `"`
}

var crcTable = crc64.MakeTable(crc64.ECMA)

func crc(data []byte) string { return strconv.FormatUint(crc64.Checksum(data, crcTable), 10) }

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// SetClock sets the double's clock (tests of a skewed request time).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}
