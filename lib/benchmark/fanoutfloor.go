package benchmark

import "fmt"

// FanoutFloor is a fanned-out run's calls against the fewest it needs.
type FanoutFloor struct {
	ECSCalls, ECSFloor int
}

func (f FanoutFloor) String() string { return fmt.Sprintf("ECS %d / floor %d", f.ECSCalls, f.ECSFloor) }

// FanoutFloorOf is res's floor.
func FanoutFloorOf(res FanoutResult) FanoutFloor {
	return FanoutFloor{ECSCalls: res.ECSCalls, ECSFloor: 1}
}
