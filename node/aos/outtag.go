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
