package explorer

import (
	"html/template"
	"time"

	"github.com/aonode/aonode/node/progress"
)

var funcs = template.FuncMap{
	"short": short,
	"when":  when,
	"group": func(n any) string {
		switch v := n.(type) {
		case int:
			return progress.Group(int64(v))
		case int64:
			return progress.Group(v)
		}
		return ""
	},
	"ansi":     ANSI,
	"duration": progress.Duration,
	"bytes":    humanBytes,
}

// short abbreviates an id to its ends, for tables (the full id is the link's title).
func short(id string) string {
	if len(id) <= 16 {
		return id
	}
	return id[:6] + "…" + id[len(id)-6:]
}

// when writes a Unix millisecond time in UTC.
func when(ms int64) string {
	if ms <= 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000 UTC")
}

func humanBytes(n int) string {
	switch {
	case n >= 1<<20:
		return progress.Group(int64(n>>20)) + " MiB"
	case n >= 1<<10:
		return progress.Group(int64(n>>10)) + " KiB"
	}
	return progress.Group(int64(n)) + " B"
}
