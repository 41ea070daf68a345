package lua53

import "strings"

// idSize is LUA_IDSIZE: the longest chunk id, its terminating NUL included.
const idSize = 60

// ChunkID is how Lua 5.3 shows a chunk's name in messages (luaO_chunkid): "=name" is name, "@file" is
// file, anything else is source text, shown as [string "first line"]; each is cut to fit LUA_IDSIZE, a cut
// marked with "...".
func ChunkID(source string) string {
	switch {
	case strings.HasPrefix(source, "="):
		if len(source) <= idSize {
			return source[1:]
		}
		return source[1:idSize]
	case strings.HasPrefix(source, "@"):
		if len(source) <= idSize {
			return source[1:]
		}
		// "..." and the end of the name, in the id size less the NUL
		return "..." + source[len(source)-(idSize-3-1):]
	}
	const pre, rets, pos = `[string "`, "...", `"]`
	room := idSize - len(pre+rets+pos) - 1
	nl := strings.IndexByte(source, '\n')
	if len(source) < room && nl < 0 {
		return pre + source + pos
	}
	if nl >= 0 {
		source = source[:nl]
	}
	if len(source) > room {
		source = source[:room]
	}
	return pre + source + rets + pos
}
