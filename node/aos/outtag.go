package aos

import (
	"bytes"
	"encoding/json"
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// OutTag is a tag of an outbox message or spawn. AOS puts a field's value into the tag as it is, and the
// result it returns is that outbox encoded as JSON: a number, boolean or table value shows there as a JSON
// number, boolean, array or object (the token blueprint's replies carry tables this way), and a tag whose
// value is a function or nil has no value at all. Value is the tag's text as the MU sends it: the string,
// or for any other value its JSON text; Raw and Absent keep what the result's JSON shows.
type OutTag struct {
	Name  string
	Value string
	// Raw is the value's JSON when the process gave a number, boolean or table (nil for a string).
	Raw json.RawMessage
	// Absent: the process gave a function or nil; Value is "".
	Absent bool
}

// outTag reads a tag the process queued; err is the json module's error for a value it cannot encode.
func outTag(L *lua.LState, name, value lua.LValue) (OutTag, error) {
	t := OutTag{Name: lua.LVAsString(name)}
	switch v := value.(type) {
	case lua.LString:
		t.Value = string(v)
	case *lua.LNilType, *lua.LFunction:
		t.Absent = true
	default:
		raw, err := encodeJSON(L, v)
		if err != nil {
			return t, err
		}
		t.Raw, t.Value = raw, string(raw)
	}
	return t, nil
}

// MarshalJSON writes {"name": ..., "value": ...} with the value as the process gave it.
func (t OutTag) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	name, _ := json.Marshal(t.Name)
	b.WriteString(`{"name":`)
	b.Write(name)
	switch {
	case t.Absent:
	case t.Raw != nil:
		b.WriteString(`,"value":`)
		b.Write(t.Raw)
	default:
		value, _ := json.Marshal(t.Value)
		b.WriteString(`,"value":`)
		b.Write(value)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads what MarshalJSON writes (a stored result).
func (t *OutTag) UnmarshalJSON(data []byte) error {
	var in struct {
		Name  string          `json:"name"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return fmt.Errorf("reading an outbox tag: %w", err)
	}
	*t = OutTag{Name: in.Name}
	switch {
	case in.Value == nil:
		t.Absent = true
	case in.Value[0] == '"':
		if err := json.Unmarshal(in.Value, &t.Value); err != nil {
			return fmt.Errorf("reading the value of outbox tag %q: %w", in.Name, err)
		}
	default:
		t.Raw = append(json.RawMessage(nil), in.Value...)
		t.Value = string(in.Value)
	}
	return nil
}

// MarshalJSON writes the message with its Target and Data as the process gave them.
func (m OutMessage) MarshalJSON() ([]byte, error) {
	type plain struct {
		Target json.RawMessage `json:"Target"`
		Anchor string          `json:"Anchor"`
		Tags   any             `json:"Tags"`
		Data   json.RawMessage `json:"Data"`
	}
	var tags any = m.Tags
	switch {
	case m.TagsRaw != nil:
		tags = m.TagsRaw
	case m.Tags == nil:
		tags = []OutTag{}
	}
	return json.Marshal(plain{Target: rawOr(m.TargetRaw, m.Target), Anchor: m.Anchor, Tags: tags, Data: rawOr(m.DataRaw, m.Data)})
}

// UnmarshalJSON reads what MarshalJSON writes (a stored result).
func (m *OutMessage) UnmarshalJSON(data []byte) error {
	var in struct {
		Target json.RawMessage `json:"Target"`
		Anchor string          `json:"Anchor"`
		Tags   json.RawMessage `json:"Tags"`
		Data   json.RawMessage `json:"Data"`
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return fmt.Errorf("reading an outbox message: %w", err)
	}
	*m = OutMessage{Anchor: in.Anchor}
	var err error
	if m.Tags, m.TagsRaw, err = readOutTags(in.Tags); err != nil {
		return fmt.Errorf("reading an outbox message's Tags: %w", err)
	}
	if m.Target, m.TargetRaw, err = fromRaw(in.Target); err != nil {
		return fmt.Errorf("reading an outbox message's Target: %w", err)
	}
	if m.Data, m.DataRaw, err = fromRaw(in.Data); err != nil {
		return fmt.Errorf("reading an outbox message's Data: %w", err)
	}
	return nil
}

// MarshalJSON writes the spawn with its Data as the process gave it.
func (s OutSpawn) MarshalJSON() ([]byte, error) {
	type plain struct {
		Anchor string          `json:"Anchor"`
		Tags   any             `json:"Tags"`
		Data   json.RawMessage `json:"Data"`
	}
	var tags any = s.Tags
	if s.TagsRaw != nil {
		tags = s.TagsRaw
	}
	return json.Marshal(plain{Anchor: s.Anchor, Tags: tags, Data: rawOr(s.DataRaw, s.Data)})
}

// UnmarshalJSON reads what MarshalJSON writes (a stored result).
func (s *OutSpawn) UnmarshalJSON(data []byte) error {
	var in struct {
		Anchor string          `json:"Anchor"`
		Tags   json.RawMessage `json:"Tags"`
		Data   json.RawMessage `json:"Data"`
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return fmt.Errorf("reading an outbox spawn: %w", err)
	}
	*s = OutSpawn{Anchor: in.Anchor}
	var err error
	if s.Tags, s.TagsRaw, err = readOutTags(in.Tags); err != nil {
		return fmt.Errorf("reading an outbox spawn's Tags: %w", err)
	}
	if s.Data, s.DataRaw, err = fromRaw(in.Data); err != nil {
		return fmt.Errorf("reading an outbox spawn's Data: %w", err)
	}
	return nil
}

// rawOr is raw when the process gave a value other than a string, else s as a JSON string.
func rawOr(raw json.RawMessage, s string) json.RawMessage {
	if raw != nil {
		return raw
	}
	b, _ := json.Marshal(s)
	return b
}

// fromRaw reads a Target or Data: a JSON string is the text; another value (absent: "") is kept as raw,
// its text being the JSON.
func fromRaw(in json.RawMessage) (string, json.RawMessage, error) {
	switch {
	case len(in) == 0 || string(in) == "null":
		return "", nil, nil
	case in[0] == '"':
		var s string
		err := json.Unmarshal(in, &s)
		return s, nil, err
	default:
		raw := append(json.RawMessage(nil), in...)
		return string(raw), raw, nil
	}
}

// readOutTags reads a stored Tags list: its tags, and the list itself when an entry is not a tag (see
// OutMessage). null or absent is no list (nil), as encoding/json reads it.
func readOutTags(in json.RawMessage) ([]OutTag, json.RawMessage, error) {
	if len(in) == 0 || string(in) == "null" {
		return nil, nil, nil
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(in, &entries); err != nil {
		return nil, nil, err
	}
	tags := make([]OutTag, 0, len(entries))
	bare := false
	for _, e := range entries {
		if len(e) == 0 || e[0] != '{' {
			bare = true
			continue
		}
		var t OutTag
		if err := json.Unmarshal(e, &t); err != nil {
			return nil, nil, err
		}
		tags = append(tags, t)
	}
	if !bare {
		return tags, nil, nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, in); err != nil {
		return nil, nil, err
	}
	return tags, compact.Bytes(), nil
}
