package aos

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// The CU encodes one result per message; encoding/json's reflection was a tenth of a kv Set's cost through
// the CU. appendResult writes the same bytes directly (results are compared byte for byte across CUs and
// replays, so it must never differ: FuzzResultJSON checks it against encoding/json). Results holding JSON
// values the process gave (a non-string tag value or Error) go through encoding/json, which also compacts
// and escapes those.

// fastJSON reports whether appendResult can encode r.
func (r *Result) fastJSON() bool {
	if r.ErrorValue != nil {
		return false
	}
	for i := range r.Messages {
		if m := &r.Messages[i]; !stringTags(m.Tags) || m.TargetRaw != nil || m.DataRaw != nil || m.TagsRaw != nil {
			return false
		}
	}
	for i := range r.Spawns {
		if s := &r.Spawns[i]; !stringTags(s.Tags) || s.DataRaw != nil || s.TagsRaw != nil {
			return false
		}
	}
	return true
}

// DecodesToItself reports whether decoding Encode's output gives r back, empty and nil slices aside: every
// value is text (none of the JSON values of fastJSON's slow path) in valid UTF-8 (the encoding replaces
// anything else by U+FFFD). A reader in the same process may then take r itself for the stored result.
func (r *Result) DecodesToItself() bool {
	if !r.fastJSON() || !utf8.ValidString(r.Error) || !utf8.ValidString(r.Output.Data) || !utf8.ValidString(r.Output.Prompt) {
		return false
	}
	for i := range r.Messages {
		m := &r.Messages[i]
		if !utf8.ValidString(m.Target) || !utf8.ValidString(m.Anchor) || !utf8.ValidString(m.Data) || !validTags(m.Tags) {
			return false
		}
	}
	for i := range r.Spawns {
		s := &r.Spawns[i]
		if !utf8.ValidString(s.Anchor) || !utf8.ValidString(s.Data) || !validTags(s.Tags) {
			return false
		}
	}
	for i := range r.Assignments {
		a := &r.Assignments[i]
		if !utf8.ValidString(a.Message) {
			return false
		}
		for _, p := range a.Processes {
			if !utf8.ValidString(p) {
				return false
			}
		}
	}
	return true
}

func validTags(tags []OutTag) bool {
	for i := range tags {
		if !utf8.ValidString(tags[i].Name) || !utf8.ValidString(tags[i].Value) {
			return false
		}
	}
	return true
}

func stringTags(tags []OutTag) bool {
	for i := range tags {
		if tags[i].Raw != nil {
			return false
		}
	}
	return true
}

func appendResult(b []byte, r *Result) []byte {
	b = append(b, `{"Messages":[`...)
	for i := range r.Messages {
		m := &r.Messages[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Target":`...)
		b = appendGoJSONString(b, m.Target)
		b = append(b, `,"Anchor":`...)
		b = appendGoJSONString(b, m.Anchor)
		b = append(b, `,"Tags":`...)
		b = appendTags(b, m.Tags)
		b = append(b, `,"Data":`...)
		b = appendGoJSONString(b, m.Data)
		b = append(b, '}')
	}
	b = append(b, `],"Spawns":[`...)
	for i := range r.Spawns {
		s := &r.Spawns[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Anchor":`...)
		b = appendGoJSONString(b, s.Anchor)
		b = append(b, `,"Tags":`...)
		if s.Tags == nil {
			b = append(b, "null"...) // as encoding/json writes it (only messages' tags default to [])
		} else {
			b = appendTags(b, s.Tags)
		}
		b = append(b, `,"Data":`...)
		b = appendGoJSONString(b, s.Data)
		b = append(b, '}')
	}
	b = append(b, `],"Assignments":[`...)
	for i := range r.Assignments {
		a := &r.Assignments[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Processes":`...)
		if a.Processes == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '[')
			for j, p := range a.Processes {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendGoJSONString(b, p)
			}
			b = append(b, ']')
		}
		b = append(b, `,"Message":`...)
		b = appendGoJSONString(b, a.Message)
		b = append(b, '}')
	}
	b = append(b, `],"Output":{"data":`...)
	b = appendGoJSONString(b, r.Output.Data)
	b = append(b, `,"prompt":`...)
	b = appendGoJSONString(b, r.Output.Prompt)
	b = append(b, `,"print":`...)
	b = strconv.AppendBool(b, r.Output.Print)
	b = append(b, '}')
	if r.Error != "" {
		b = append(b, `,"Error":`...)
		b = appendGoJSONString(b, r.Error)
	}
	b = append(b, `,"GasUsed":`...)
	b = strconv.AppendInt(b, r.GasUsed, 10)
	return append(b, '}')
}

// appendTags writes plain tags (no Raw values) as OutTag.MarshalJSON does.
func appendTags(b []byte, tags []OutTag) []byte {
	b = append(b, '[')
	for i := range tags {
		t := &tags[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendGoJSONString(b, t.Name)
		if !t.Absent {
			b = append(b, `,"value":`...)
			b = appendGoJSONString(b, t.Value)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendGoJSONString quotes s exactly as encoding/json does by default: HTML-sensitive characters and
// U+2028/U+2029 escaped, invalid UTF-8 replaced by U+FFFD, short escapes for \b \f \n \r \t.
func appendGoJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = appendEscapedByte(append(b, s[start:i]...), c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// marshalSlow is the encoding/json path (see MarshalJSON).
func marshalSlow(r Result) ([]byte, error) {
	type plain Result
	if r.ErrorValue == nil {
		return json.Marshal(plain(r))
	}
	return json.Marshal(struct {
		plain
		Error json.RawMessage `json:"Error"`
	}{plain(r), r.ErrorValue})
}
