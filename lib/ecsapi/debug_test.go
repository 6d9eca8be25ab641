package ecsapi_test

import (
	"slices"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

func TestWithoutSDKDebug(t *testing.T) {
	for _, tc := range []struct {
		in      []string
		want    []string
		changed bool
	}{
		{in: []string{"PATH=/bin", "DEBUG=sdk"}, want: []string{"PATH=/bin"}, changed: true},
		{in: []string{"DEBUG=tea,sdk,signer"}, want: []string{"DEBUG=signer"}, changed: true},
		{in: []string{"DEBUG=credential"}, want: []string{}, changed: true},
		{in: []string{"DEBUG=signer,credential,tea"}, want: []string{"DEBUG=signer"}, changed: true},
		{in: []string{"DEBUG=sdkx", "HOME=/"}, want: []string{"DEBUG=sdkx", "HOME=/"}},
		{in: []string{"NODEBUG=sdk"}, want: []string{"NODEBUG=sdk"}},
		{in: nil, want: []string{}},
	} {
		got, changed := ecsapi.WithoutSDKDebug(tc.in)
		if !slices.Equal(got, tc.want) || changed != tc.changed {
			t.Errorf("WithoutSDKDebug(%q) = %q, %v; want %q, %v", tc.in, got, changed, tc.want, tc.changed)
		}
	}
}
