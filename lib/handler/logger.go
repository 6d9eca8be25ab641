package handler

import (
	"io"
	"log/slog"
	"reflect"
	"time"
)

// NewLogger is the function's JSON logger: empty fields are omitted and
// durations are written as the report writes them ("1m0s"), not as
// nanoseconds, so that a log query reads the same values as the report.
func NewLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: tidyAttr}))
}

func tidyAttr(groups []string, a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if v.String() == "" {
			return slog.Attr{}
		}
	case slog.KindDuration:
		return slog.String(a.Key, v.Duration().String())
	case slog.KindAny:
		switch x := v.Any().(type) {
		case nil:
			return slog.Attr{}
		case time.Duration:
			return slog.String(a.Key, x.String())
		case error:
			if x == nil {
				return slog.Attr{}
			}
		default:
			rv := reflect.ValueOf(x)
			switch rv.Kind() {
			case reflect.Slice, reflect.Map:
				if rv.Len() == 0 {
					return slog.Attr{}
				}
			case reflect.Pointer, reflect.Interface:
				if rv.IsNil() {
					return slog.Attr{}
				}
			}
		}
	}
	return a
}
