package ecsapi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	jsoniter "github.com/json-iterator/go"
)

// maxPageBytes bounds a DescribeInstances answer read off the wire. A page
// of 100 instances as ECS describes them is a few hundred KB. (A variable
// so that a test can lower it.)
var maxPageBytes int64 = 32 << 20

// pageCapture reads a successful DescribeInstances answer straight off the
// wire into the lean response type. The SDK would read the same body three
// times over (io.ReadAll's growing chunks, a copy to a string, then its
// decoder); at 100 instances a page those copies were a fifth of a sweep's
// CPU. The SDK still builds, signs and sends the call and judges the HTTP
// status; every answer it judges an error reaches it untouched.
type pageCapture struct {
	body describeInstancesBody
	read bool  // a successful answer was read here
	err  error // it was not the expected JSON
}

var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// take reads and decodes resp's body and hands the SDK an empty object in
// its place. A body that cannot be read fails the call like a broken
// connection would.
func (p *pageCapture) take(resp *http.Response) error {
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 4<<20 { // keep the pool's buffers page-sized
			buf.Reset()
			pageBuffers.Put(buf)
		}
	}()
	buf.Reset()
	if resp.ContentLength > 0 && resp.ContentLength <= maxPageBytes {
		buf.Grow(int(resp.ContentLength))
	}
	limit := maxPageBytes
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1))
	_ = resp.Body.Close()
	if err != nil {
		return err
	}
	p.read = true
	if n > limit {
		p.err = fmt.Errorf("answer larger than %d bytes", limit)
	} else if err := pageJSON.Unmarshal(buf.Bytes(), &p.body); err != nil {
		p.err = err
	}
	resp.Body = io.NopCloser(strings.NewReader("{}"))
	resp.ContentLength = 2
	return nil
}

// pageJSON decodes as the SDK's own decoder does (json-iterator, field
// names matched with case), without its leniency on types: a string where
// the answer should hold a bool fails the page instead of being guessed at.
var pageJSON = jsoniter.Config{CaseSensitive: true}.Froze()
