package cli

import (
	"os"
	"strconv"

	"golang.org/x/term"
)

// defaultWidth is the table width when the terminal's is unknown.
const defaultWidth = 80

// width is the columns the output may use: the terminal's, else
// $COLUMNS, else defaultWidth.
func (e *Env) width() int { return e.widthOf(e.Stdout) }

// widthOf is width for the output w (stdout or stderr).
func (e *Env) widthOf(w any) int {
	if f, ok := w.(*os.File); ok {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	if n, err := strconv.Atoi(e.get("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return defaultWidth
}
