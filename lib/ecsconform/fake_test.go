package ecsconform_test

import (
	"sync"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsconform"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/fake"
)

// The in-memory fake the engine's suite runs on.
func TestFake(t *testing.T) {
	ecsconform.Run(t, func(t *testing.T, f ecsconform.Fleet) ecsconform.Model {
		c := fake.New(f.Instances, f.Regions...)
		c.SetResources(fake.Resources{Disks: f.Disks, Snapshots: f.Snapshots, EIPs: f.EIPs, Images: f.Images})
		var mu sync.Mutex
		type failure struct {
			n, status int
			code      string
		}
		failures := map[string]*failure{}
		c.Fault = func(action string, _ any) error {
			mu.Lock()
			defer mu.Unlock()
			if f := failures[action]; f != nil && f.n > 0 {
				f.n--
				return fake.Err(action, "", f.code, f.status)
			}
			return nil
		}
		return ecsconform.Model{API: c, FailNext: func(action string, n, status int, code string) {
			mu.Lock()
			defer mu.Unlock()
			failures[action] = &failure{n, status, code}
		}}
	})
}

var _ ecsconform.API = (*fake.Cloud)(nil)
