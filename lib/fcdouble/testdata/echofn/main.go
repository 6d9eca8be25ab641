// Command echofn is the function the fcdouble tests run: it answers each
// timer event with what it received — the event, the fccontext fields and
// the context deadline — so the tests can check the double delivers what the
// SDK decodes. The payloads "fail", "panic" and "wait" make it fail in the
// three ways a handler can.
package main

import (
	"context"
	"errors"
	"os"

	"github.com/aliyun/fc-runtime-go-sdk/events"
	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

func main() {
	fc.Start(handle)
}

func handle(ctx context.Context, ev events.TimerEvent) (map[string]any, error) {
	payload := deref(ev.Payload)
	switch payload {
	case "fail":
		return nil, errors.New("echofn: asked to fail")
	case "panic":
		panic("echofn: asked to panic")
	case "wait":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	out := map[string]any{
		"triggerTime": deref(ev.TriggerTime),
		"triggerName": deref(ev.TriggerName),
		"payload":     payload,
		"payloadNil":  ev.Payload == nil,
		"envRegion":   os.Getenv("FC_REGION"),
		"envEcho":     os.Getenv("ECHO_ENV"),
	}
	if dl, ok := ctx.Deadline(); ok {
		out["deadlineMs"] = dl.UnixMilli()
	}
	if fctx, ok := fccontext.FromContext(ctx); ok {
		out["requestId"] = fctx.RequestID
		out["accessKeyId"] = fctx.Credentials.AccessKeyId
		out["accessKeySecret"] = fctx.Credentials.AccessKeySecret
		out["securityToken"] = fctx.Credentials.SecurityToken
		out["functionName"] = fctx.Function.Name
		out["handler"] = fctx.Function.Handler
		out["memory"] = fctx.Function.Memory
		out["timeout"] = fctx.Function.Timeout
		out["region"] = fctx.Region
		out["accountId"] = fctx.AccountId
		out["retryCount"] = fctx.RetryCount
		out["qualifier"] = fctx.Service.Qualifier
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
