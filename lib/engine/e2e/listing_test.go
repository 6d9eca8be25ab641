package e2e_test

import (
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
)

// laterPage: a DescribeInstances call for any page but the first, by
// token or by number.
func laterPage(c *ecsdouble.Call) bool {
	n := c.Params["PageNumber"]
	return c.Params["NextToken"] != "" || n != "" && n != "1"
}

// refusePageNumber answers DescribeInstances by number as an API that
// dropped the deprecated parameter might: the listing reads the NextToken
// chain instead.
func refusePageNumber(srv *ecsdouble.Server) {
	srv.OnRequest(func(c *ecsdouble.Call) *ecsdouble.Fault {
		if c.Action == ecsapi.ActionDescribeInstances && c.Params["PageNumber"] != "" {
			return ecsdouble.Error(400, "InvalidParameter")
		}
		return nil
	})
}
