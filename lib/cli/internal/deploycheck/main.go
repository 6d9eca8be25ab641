// Command deploycheck runs deployfiles.Check on a clone and prints one
// problem per line. `validate` runs it with `go run` instead of linking
// lib/deployfiles: the fc3 schema library it needs compiles its meta-schemas
// in package init, which would add 12-20 ms to every cold start of the
// function binary.
//
// Exit codes: 0 no problems, 1 problems found, 2 the files could not be
// loaded.
package main

import (
	"fmt"
	"os"

	"github.com/ecs-reaper/ecs-reaper/lib/deployfiles"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: deploycheck REPO_ROOT")
		os.Exit(2)
	}
	files, err := deployfiles.Load(os.Args[1])
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	ps := files.Check()
	for _, p := range ps {
		fmt.Println(p.Error())
	}
	if len(ps) > 0 {
		os.Exit(1)
	}
}
