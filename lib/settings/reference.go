package settings

import (
	"fmt"
	"strings"
)

//go:generate go run ./cmd/gendoc -o ../../docs/settings.md

// ReferencePath is the settings reference, from the repository's root.
const ReferencePath = "docs/settings.md"

// Reference writes the settings reference (docs/settings.md) from the
// table: every variable, its default, what it accepts, what it does and
// whether it is a credential.
func Reference() string {
	var b strings.Builder
	b.WriteString(`# Settings

<!-- Generated from lib/settings/table.go by ` + "`go generate ./lib/settings`" + `; do not edit. -->

The function's environment variables, exactly these names: any other
` + "`REAPER_*`" + ` name is refused, naming the closest known one. Surrounding
white space is ignored; an unset, empty or blank variable takes its
default. An invalid value fails the invocation with an error naming the
variable and what is wrong, and nothing is released. Credentials are never
shown in logs, reports or errors. Settings that contradict each other are
refused too: see [Configuration](configuration.md#settings-that-contradict-themselves).

| Variable | Default | Accepts | What it does | Secret |
|---|---|---|---|---|
`)
	for _, sp := range Specs() {
		def := "unset"
		if sp.Default != "" {
			def = "`" + sp.Default + "`"
		}
		secret := ""
		if sp.Secret {
			secret = "yes: never shown"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", sp.Name, def, cell(sp.Accepts), cell(sp.Help), secret)
	}
	return b.String()
}

// cell escapes text for a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
