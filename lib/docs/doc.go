// Package docs checks the repository's Markdown documentation (README.md
// and docs/): every relative link and #anchor resolves, nothing links
// outside the repository, no internal work-item references, a README short
// enough to read that runs the built binary (go run only for the demo),
// and only REAPER_* names the settings table knows.
package docs
