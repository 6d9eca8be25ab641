package ops

import (
	"context"

	"github.com/ecs-reaper/ecs-reaper/lib/engine/execute"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// TagMany writes the notice mark on resources (ECS TagResources with a
// disk or snapshot ResourceType, the VPC API's for EIPs); like Mark, one
// resource a call (each mark is signed for its resource), with the
// engine's own dry run. A delivered notice is recorded on every resource
// that still exists.
func TagMany[R execute.Resource](action string, tag func(ctx context.Context, ids []string, tags map[string]string) (string, error)) execute.Op[MarkParams, R] {
	return execute.Op[MarkParams, R]{
		Action: action,
		Send: func(ctx context.Context, req execute.Request[MarkParams]) (execute.Answer, error) {
			id, err := tag(ctx, req.IDs, map[string]string{req.Params.Key: req.Params.Value})
			return execute.Answer{RequestID: id}, err
		},
		Done: verdict.Notified, WouldDone: verdict.WouldNotify,
		Describe: describeMark,
	}
}
