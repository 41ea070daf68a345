package aos

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// slowly is what encoding/json gives for r with MarshalJSON's defaults (the encoding results had before
// appendResult, and still have when they hold JSON values).
func slowly(t testing.TB, r Result) []byte {
	if r.Messages == nil {
		r.Messages = []OutMessage{}
	}
	if r.Spawns == nil {
		r.Spawns = []OutSpawn{}
	}
	if r.Assignments == nil {
		r.Assignments = []OutAssignment{}
	}
	for i := range r.Messages {
		if r.Messages[i].Tags == nil {
			r.Messages[i].Tags = []OutTag{}
		}
	}
	b, err := marshalSlow(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tricky are the strings encoding/json escapes or rewrites.
var tricky = []string{"", "plain", "<b>&amp;</b>", "quote\" back\\slash", "\x00\x01\x1f\x7f", "\b\f\n\r\t",
	"\u2028\u2029", "é ✓ 😀", "\xff\xfe bad utf8 \xc3", "\xe2\x80", "a\u2028b", "\"<>&\\"}

func randomString(rng *rand.Rand) string {
	if rng.IntN(3) == 0 {
		return tricky[rng.IntN(len(tricky))]
	}
	b := make([]byte, rng.IntN(12))
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	return string(b)
}

func randomTags(rng *rand.Rand) []OutTag {
	if rng.IntN(4) == 0 {
		return nil
	}
	tags := make([]OutTag, rng.IntN(4))
	for i := range tags {
		tags[i] = OutTag{Name: randomString(rng), Value: randomString(rng), Absent: rng.IntN(5) == 0}
		if tags[i].Absent {
			tags[i].Value = ""
		}
	}
	return tags
}

func randomResult(rng *rand.Rand) Result {
	var r Result
	for range rng.IntN(3) {
		r.Messages = append(r.Messages, OutMessage{Target: randomString(rng), Anchor: randomString(rng), Tags: randomTags(rng), Data: randomString(rng)})
	}
	for range rng.IntN(2) {
		r.Spawns = append(r.Spawns, OutSpawn{Anchor: randomString(rng), Tags: randomTags(rng), Data: randomString(rng)})
	}
	for range rng.IntN(2) {
		a := OutAssignment{Message: randomString(rng)}
		for range rng.IntN(3) {
			a.Processes = append(a.Processes, randomString(rng))
		}
		r.Assignments = append(r.Assignments, a)
	}
	r.Output = Output{Data: randomString(rng), Prompt: randomString(rng), Print: rng.IntN(2) == 0}
	if rng.IntN(3) == 0 {
		r.Error = randomString(rng)
	}
	r.GasUsed = rng.Int64N(1 << 40)
	return r
}

// Results are compared byte for byte across CUs and replays: the direct encoder must give exactly what
// encoding/json gives.
func TestResultEncodeIsEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		r := randomResult(rng)
		want := slowly(t, r)
		got, err := r.Encode()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("case %d: %v\n got %s\nwant %s", i, err, got, want)
		}
		if std, _ := json.Marshal(r); !bytes.Equal(std, want) {
			t.Fatalf("case %d: json.Marshal gives %s", i, std)
		}
	}
	// Results holding JSON values go the encoding/json way, compacted and escaped.
	r := Result{Messages: []OutMessage{{Tags: []OutTag{{Name: "n", Value: `{"a": "<x>"}`, Raw: json.RawMessage(`{"a": "<x>"}`)}}}}, ErrorValue: json.RawMessage(`{"e": 1}`), Error: `{"e":1}`}
	got, _ := r.Encode()
	if want := `{"Messages":[{"Target":"","Anchor":"","Tags":[{"name":"n","value":{"a":"\u003cx\u003e"}}],"Data":""}],"Spawns":[],"Assignments":[],"Output":{"data":"","prompt":"","print":false},"GasUsed":0,"Error":{"e":1}}`; string(got) != want {
		t.Fatalf("JSON values: %s", got)
	}
}

func FuzzResultJSON(f *testing.F) {
	for _, s := range tricky {
		f.Add(s, s, s, false)
	}
	f.Fuzz(func(t *testing.T, target, data, tag string, absent bool) {
		r := Result{Messages: []OutMessage{{Target: target, Data: data, Tags: []OutTag{{Name: tag, Value: data, Absent: absent}}}},
			Output: Output{Data: data, Prompt: tag}, Error: target}
		if absent {
			r.Messages[0].Tags[0].Value = ""
		}
		got, _ := r.Encode()
		if want := slowly(t, r); !bytes.Equal(got, want) {
			t.Fatalf("got %s\nwant %s", got, want)
		}
	})
}

// A Target or Data the process gave as a number, boolean or table is that JSON value in the result, as in
// AOS's; the MU sends its text. A stored result reads back the same, and re-encodes to the same bytes.
func TestOutboxValuesKeepTheirJSONType(t *testing.T) {
	p := lpBoot(t, Options{})
	r := p.eval(`ao.send({ Target = "P", Data = 42 }) ao.send({ Target = 7, Data = true })
		table.insert(ao.outbox.Messages, { Target = "P", Data = { "a" }, Tags = {} }) -- ao.send would encode a table as JSON text
		ao.send({ Target = "P", Data = "text" }) ao.send({ Target = "P" })
		ao.spawn("M", { Data = 2.5 }) ao.send({ Target = "Q", Tags = { "bare", { name = "N", value = "v" }, 3 } })`)
	if r.Error != "" {
		t.Fatal(r.Error)
	}
	b, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Messages []struct{ Target, Data json.RawMessage }
		Spawns   []struct{ Data json.RawMessage }
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{`"P"`, `42`}, {`7`, `true`}, {`"P"`, `["a"]`}, {`"P"`, `"text"`}, {`"P"`, `""`}, {`"Q"`, `""`}}
	if len(got.Messages) != len(want) || len(got.Spawns) != 1 || string(got.Spawns[0].Data) != `2.5` {
		t.Fatalf("result %s", b)
	}
	for i, w := range want {
		if string(got.Messages[i].Target) != w[0] || string(got.Messages[i].Data) != w[1] {
			t.Errorf("message %d: Target %s Data %s, want %s %s", i, got.Messages[i].Target, got.Messages[i].Data, w[0], w[1])
		}
	}
	// what the MU sends
	if m := r.Messages[0]; m.Data != "42" || m.Target != "P" {
		t.Errorf("message 0 sends Data %q to %q", m.Data, m.Target)
	}
	if m := r.Messages[1]; m.Data != "true" || m.Target != "7" {
		t.Errorf("message 1 sends Data %q to %q", m.Data, m.Target)
	}
	// a Tags list with entries that are not tags: as the process gave it in the result, its tags for the MU
	last := r.Messages[5]
	for _, tag := range last.Tags {
		if tag.Name == "" {
			t.Errorf("a bare entry became a tag: %+v", last.Tags)
		}
	}
	if last.Tags[len(last.Tags)-1].Name != "N" || !bytes.Contains(b, []byte(`"bare"`)) || !bytes.Contains(b, []byte(`{"name":"N","value":"v"},3`)) {
		t.Errorf("bare tag entries: %+v in %s", last.Tags, b)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	again, err := back.Encode()
	if err != nil || !bytes.Equal(again, b) {
		t.Fatalf("read back and encoded again:\n%s\nwas\n%s (%v)", again, b, err)
	}
	if back.Messages[1].Data != "true" || back.Spawns[0].Data != "2.5" {
		t.Fatalf("read back: %+v", back.Messages[1])
	}
}

// squash makes empty slices nil, the one difference decoding may leave (an encoded [] reads back empty, not
// nil).
func squash(r Result) Result {
	if len(r.Messages) == 0 {
		r.Messages = nil
	}
	if len(r.Spawns) == 0 {
		r.Spawns = nil
	}
	if len(r.Assignments) == 0 {
		r.Assignments = nil
	}
	r.Messages, r.Spawns, r.Assignments = slices.Clone(r.Messages), slices.Clone(r.Spawns), slices.Clone(r.Assignments)
	for i := range r.Messages {
		if len(r.Messages[i].Tags) == 0 {
			r.Messages[i].Tags = nil
		}
	}
	for i := range r.Spawns {
		if len(r.Spawns[i].Tags) == 0 {
			r.Spawns[i].Tags = nil
		}
	}
	for i := range r.Assignments {
		if len(r.Assignments[i].Processes) == 0 {
			r.Assignments[i].Processes = nil
		}
	}
	return r
}

// A result DecodesToItself exactly when the stored copy reads back as the result: the CU hands such results
// to its MU as they are, and the MU must then send what it would have sent reading the stored copy.
func TestDecodesToItself(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	yes, no := 0, 0
	for i := range 20000 {
		r := randomResult(rng)
		b, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		var back Result
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		same := reflect.DeepEqual(squash(back), squash(r))
		if got := r.DecodesToItself(); got != same {
			t.Fatalf("case %d: DecodesToItself %v, but decoding gives the result back: %v\n%#v\n%#v", i, got, same, r, back)
		}
		if same {
			yes++
		} else {
			no++
		}
		// What was read back holds valid text only: it reads back as itself.
		b2, _ := back.Encode()
		var again Result
		if err := json.Unmarshal(b2, &again); err != nil || !back.DecodesToItself() || !reflect.DeepEqual(squash(again), squash(back)) {
			t.Fatalf("case %d: a decoded result does not read back as itself (%v)\n%#v\n%#v", i, err, back, again)
		}
	}
	if yes < 100 || no < 1000 {
		t.Fatalf("the random results were not varied enough: %d read back, %d did not", yes, no)
	}
	// Values the process gave as JSON (numbers, booleans, tables) never qualify, whatever they decode to.
	for name, r := range map[string]Result{
		"raw tag":     {Messages: []OutMessage{{Tags: []OutTag{{Name: "n", Value: "1", Raw: json.RawMessage("1")}}}}},
		"raw target":  {Messages: []OutMessage{{Target: "7", TargetRaw: json.RawMessage("7")}}},
		"raw data":    {Spawns: []OutSpawn{{Data: "2.5", DataRaw: json.RawMessage("2.5")}}},
		"error value": {Error: "2", ErrorValue: json.RawMessage("2")},
	} {
		if r.DecodesToItself() {
			t.Errorf("%s: DecodesToItself", name)
		}
	}
}
