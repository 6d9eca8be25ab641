// Command gendoc writes the settings reference from the settings table:
// go generate ./lib/settings (or go run ./lib/settings/cmd/gendoc -o docs/settings.md).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

func main() {
	out := flag.String("o", settings.ReferencePath, "the file to write")
	flag.Parse()
	if err := os.WriteFile(*out, []byte(settings.Reference()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}
