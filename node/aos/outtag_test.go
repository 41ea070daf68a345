package aos

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

// TestTagValuesAgainstWasm: a field that is not a string keeps its type in the result's JSON, as the
// wasm's outbox shows it (tags after the four fixed ones, sorted by name: their order is pairs order).
func TestTagValuesAgainstWasm(t *testing.T) {
	p := boot(t)
	cases := []struct{ code, want string }{
		{"local m = ao.send({ Target = 'X', Quantity = 100, Flag = true, F = 1.5, T = { a = 1, b = { 1, 2 } }, E = {}, Fn = print })",
			`[{"value":[],"name":"E"},{"value":1.5,"name":"F"},{"value":true,"name":"Flag"},{"name":"Fn"},{"value":100,"name":"Quantity"},{"value":{"b":[1,2],"a":1},"name":"T"}]`},
		{"local m = ao.send({ Target = 'X', Tags = { Q = 5, N = { x = 'y' } } })",
			`[{"value":{"x":"y"},"name":"N"},{"value":5,"name":"Q"}]`},
		{"local m = ao.send({ Target = 'X', Tags = { { name = 'A', value = 7 }, { name = 'B', value = { 1 } } } })",
			`[{"value":7,"name":"A"},{"value":[1],"name":"B"}]`},
		{"local m = ao.send({ Target = 'X', Big = 2^53, Neg = -0.5, I = 3 // 1, Fl = 3.0 })",
			`[{"value":9007199254741000,"name":"Big"},{"value":3,"name":"Fl"},{"value":3,"name":"I"},{"value":-0.5,"name":"Neg"}]`},
		{"local m = ao.spawn('MOD', { Quantity = 100, T = { a = 1 } })",
			`[{"value":100,"name":"Quantity"},{"value":{"a":1},"name":"T"}]`},
	}
	norm := func(s string, skip int) string {
		var tags []map[string]any
		if err := json.Unmarshal([]byte(s), &tags); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		tags = tags[skip:]
		sort.Slice(tags, func(i, j int) bool { return tags[i]["name"].(string) < tags[j]["name"].(string) })
		b, _ := json.Marshal(tags)
		return string(b)
	}
	for _, c := range cases {
		r := p.Handle(msg(owner, c.code, Tag{"Action", "Eval"}))
		if r.Error != "" {
			t.Fatalf("%s: %s", c.code, r.Error)
		}
		b, _ := json.Marshal(r)
		var res struct {
			Messages, Spawns []struct{ Tags json.RawMessage }
		}
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		got, skip := res.Messages, 4
		if len(got) == 0 {
			got, skip = res.Spawns, 7
		}
		if g, w := norm(string(got[0].Tags), skip), norm(c.want, 0); g != w {
			t.Errorf("%s\n  tags %s\n  want %s", c.code, g, w)
		}
	}

	// The MU sends a value's JSON text; a result read back from JSON is the same.
	r := p.Handle(msg(owner, "local m = ao.send({ Target = 'X', Quantity = 100, T = { a = 1 }, Fn = print, S = 's' })", Tag{"Action", "Eval"}))
	texts := map[string]string{}
	for _, tg := range r.Messages[0].Tags {
		texts[tg.Name] = tg.Value
	}
	if texts["Quantity"] != "100" || texts["T"] != `{"a":1}` || texts["Fn"] != "" || texts["S"] != "s" {
		t.Errorf("tag texts %v", texts)
	}
	b, _ := json.Marshal(r)
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if b2, _ := json.Marshal(back); string(b2) != string(b) {
		t.Errorf("round trip:\n%s\n%s", b, b2)
	}

	// A value the JSON cannot hold fails the whole result, as the wasm's encoding of it does.
	r = p.Handle(msg(owner, "local m = ao.send({ Target = 'X', Inf = 1/0 })", Tag{"Action", "Eval"}))
	if !strings.Contains(r.Error, `[string "json"]:149: unexpected number value 'inf'`) || len(r.Messages) != 0 {
		t.Errorf("an infinite tag value: %+v", r)
	}
}
