package aos

// Comparing a golden case: both results, the wasm's and this runtime's, are flattened into the same set of
// fields (Error, Output.data, Output.prompt, Output.print, Messages[i].Tags, ...) with JSON text as values,
// so that a number where the other side has a string shows, then normalised (testdata/golden/README.md says
// what and why) and compared field by field.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Difference kinds, in the order a case's kind is chosen by.
const (
	kindType        = "value type (number vs string)"
	kindMissing     = "missing function or module"
	kindErrorResult = "error vs result"
	kindErrorText   = "error wording"
	kindNumber      = "number printing"
	kindOutput      = "output text"
	kindPrompt      = "prompt"
	kindPrint       = "output print flag"
	kindMessages    = "messages/tags"
	kindOther       = "other fields"
)

var kindOrder = []string{kindType, kindMissing, kindErrorResult, kindErrorText, kindNumber, kindOutput, kindPrompt, kindPrint, kindMessages, kindOther}

// gFixedTags is how many tags ao.send and ao.spawn write first, in a fixed order; the rest come from the
// fields of a Lua table (pairs order) and are compared as a set.
var gFixedTags = map[string]int{"Messages": 4, "Spawns": 7}

// gFlatten turns a result (decoded JSON) into field -> JSON text. A missing Output field, Target, Anchor or
// Data is the empty value this runtime's Result has for it; GasUsed, an empty Patches list and the wasm's
// debug-only Output.test are left out.
func gFlatten(v any) map[string]string {
	out := map[string]string{"Output.data": `""`, "Output.prompt": `""`, "Output.print": "false"}
	top, ok := v.(map[string]any)
	if !ok {
		out["result"] = gJsonText(v)
		return out
	}
	for k, val := range top {
		switch k {
		case "GasUsed":
		case "Error":
			if val != nil {
				out["Error"] = gJsonText(val)
			}
		case "Patches":
			if l, ok := val.([]any); !ok || len(l) > 0 {
				out["Patches"] = gJsonText(val)
			}
		case "Output":
			gFlattenOutput(out, val)
		case "Messages", "Spawns":
			l, _ := val.([]any)
			if val != nil && l == nil {
				out[k] = gJsonText(val)
				continue
			}
			out[k+".count"] = strconv.Itoa(len(l))
			for i, e := range l {
				prefix := fmt.Sprintf("%s[%d].", k, i)
				m, ok := e.(map[string]any)
				if !ok {
					out[prefix[:len(prefix)-1]] = gJsonText(e)
					continue
				}
				for _, f := range []string{"Target", "Anchor", "Data"} {
					if k == "Spawns" && f == "Target" {
						continue
					}
					out[prefix+f] = `""`
				}
				for f, fv := range m {
					if f == "Tags" {
						out[prefix+f] = gTagsText(fv, gFixedTags[k])
					} else {
						out[prefix+f] = gJsonText(fv)
					}
				}
			}
		case "Assignments":
			l, _ := val.([]any)
			if val != nil && l == nil {
				out[k] = gJsonText(val)
				continue
			}
			out[k+".count"] = strconv.Itoa(len(l))
			for i, e := range l {
				out[fmt.Sprintf("%s[%d]", k, i)] = gJsonText(e)
			}
		default:
			out[k] = gJsonText(val)
		}
	}
	for _, k := range []string{"Messages", "Spawns", "Assignments"} {
		if _, ok := out[k+".count"]; !ok {
			if _, odd := out[k]; !odd {
				out[k+".count"] = "0"
			}
		}
	}
	return out
}

func gFlattenOutput(out map[string]string, val any) {
	switch o := val.(type) {
	case nil:
	case string:
		out["Output.data"] = gJsonText(o)
	case []any: // an empty Lua table, encoded as a list
		if len(o) > 0 {
			out["Output"] = gJsonText(o)
		}
	case map[string]any:
		for k, v := range o {
			switch k {
			case "test": // the wasm's debug dump of the print log
			case "data", "prompt":
				if v != nil {
					out["Output."+k] = gJsonText(v)
				}
			case "print":
				if v != nil {
					out["Output.print"] = gJsonText(v)
				}
			default:
				out["Output."+k] = gJsonText(v)
			}
		}
	default:
		out["Output"] = gJsonText(o)
	}
}

// gJsonText is v's JSON; a string that holds a JSON object or array is that JSON with its keys sorted (the
// order a Lua table's keys come out in is free).
func gJsonText(v any) string {
	if s, ok := v.(string); ok {
		if t := strings.TrimSpace(s); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
			if inner, err := gDecodeJSON([]byte(t)); err == nil {
				b, _ := json.Marshal(inner)
				return "json:" + string(b)
			}
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

// gTagsText is a tag list with the tags after the first fixed ones in sorted order.
func gTagsText(v any, fixed int) string {
	l, ok := v.([]any)
	if !ok {
		return gJsonText(v)
	}
	items := make([]string, len(l))
	for i, e := range l {
		if m, ok := e.(map[string]any); ok && len(m) == 2 && m["name"] != nil {
			items[i] = gJsonText(m["name"]) + "=" + gJsonText(m["value"])
		} else {
			items[i] = gJsonText(e)
		}
	}
	if fixed < len(items) {
		sort.Strings(items[fixed:])
	}
	return "[" + strings.Join(items, ", ") + "]"
}

// The prompt names the aos version: aos-2.0.0 in the wasm, aos-2.0.4 here.
var gVersionToken = regexp.MustCompile(`aos-\d+\.\d+\.\d+(-aonode)?`)

func gNormalizeStrict(f map[string]string) map[string]string {
	out := make(map[string]string, len(f))
	for k, v := range f {
		if k == "Output.prompt" {
			v = gVersionToken.ReplaceAllString(v, "aos-VERSION")
		}
		out[k] = v
	}
	return out
}

// Lua error messages, for the error-text-insensitive comparison: a message with its location, or one of the
// runtime's own error forms, up to the end of its line.
var gErrorText = regexp.MustCompile(`(\[string "[^"]*"\]|<string>|[\w./-]+\.lua|\baos):\d+:[^\n"]*|\b(attempt to|bad argument #|invalid (option|value|key|order)|wrong number of arguments|stack overflow|table index is (nil|NaN)|number has no integer representation|string length overflow)[^\n"]*`)

func gNormalizeInsensitive(f map[string]string) map[string]string {
	out := gNormalizeStrict(f)
	for k, v := range out {
		switch {
		case k == "Error":
			out[k] = "<error>"
		default:
			out[k] = gMaskErrors(v)
		}
	}
	return out
}

// gMaskErrors replaces the Lua error messages in a field's text (a JSON string is decoded first).
func gMaskErrors(v string) string {
	var s string
	if strings.HasPrefix(v, `"`) && json.Unmarshal([]byte(v), &s) == nil {
		b, _ := json.Marshal(gErrorText.ReplaceAllString(s, "<error>"))
		return string(b)
	}
	return gErrorText.ReplaceAllString(v, "<error>")
}

// The prompt's Inbox count, in a prompt's JSON text.
var inboxCount = regexp.MustCompile(`\[Inbox:(\\u001b\[31m)?(\d+)`)

// shiftInbox takes one off the prompt's Inbox count: the spawn message this runtime keeps in the Inbox.
func shiftInbox(prompt string) string {
	return inboxCount.ReplaceAllStringFunc(prompt, func(s string) string {
		m := inboxCount.FindStringSubmatch(s)
		n, _ := strconv.Atoi(m[2])
		return strings.TrimSuffix(s, m[2]) + strconv.Itoa(n-1)
	})
}

// A number in text, for telling differences in number printing apart: 5 and 5.0, 1e+15 and 1000000000000000.
var gNumberText = regexp.MustCompile(`-?\d+(\.\d+)?([eE][-+]?\d+)?|-?\b(inf|nan)\b`)

func gNormalizeNumbers(s string) string {
	return gNumberText.ReplaceAllStringFunc(s, func(n string) string {
		f, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return strings.TrimPrefix(n, "-") // -nan and nan
		}
		return strconv.FormatFloat(f, 'g', 14, 64)
	})
}

// gFieldDiff is one field that differs: the wasm's value and this runtime's (absent: "").
type gFieldDiff struct{ Field, Want, Got string }

func gDiffFields(want, got map[string]string) []gFieldDiff {
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	var out []gFieldDiff
	for k := range keys {
		if want[k] != got[k] {
			out = append(out, gFieldDiff{k, want[k], got[k]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return gFieldLess(out[i].Field, out[j].Field) })
	return out
}

// gFieldLess orders fields as a result reads: Error, Output, Messages, Spawns, Assignments, anything else.
func gFieldLess(a, b string) bool {
	rank := func(f string) int {
		for i, p := range []string{"Error", "Output.data", "Output.prompt", "Output.print", "Output", "Messages", "Spawns", "Assignments"} {
			if strings.HasPrefix(f, p) {
				return i
			}
		}
		return 99
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		return ra < rb
	}
	return a < b
}

// The comparison of one case, filled by compare.
type gsOutcome struct {
	strict, insensitive bool
	diffs               []gFieldDiff // strict differences
	kinds               []string
	decodeErr           error
}

// Patterns of an error raised because a function, a library or a module is not there.
var gMissingText = regexp.MustCompile(`attempt to call a nil value|module '[^']*' not found|attempt to index a nil value \((global|field) '(debug|io|os|utf8|string|table|math|coroutine|package|bit32)'|attempt to call (field|global|method) '[^']*' \(a nil value\)`)

func (c *gsCase) compare() {
	wantV, err := gDecodeJSON(c.Want)
	if err != nil {
		c.decodeErr = err
		return
	}
	raw, err := json.Marshal(c.Got)
	if err != nil {
		c.decodeErr = err
		return
	}
	gotV, err := gDecodeJSON(raw)
	if err != nil {
		c.decodeErr = err
		return
	}
	wantF, gotF := gFlatten(wantV), gFlatten(gotV)
	if c.spawnInInbox {
		gotF["Output.prompt"] = shiftInbox(gotF["Output.prompt"])
	}
	c.diffs = gDiffFields(gNormalizeStrict(wantF), gNormalizeStrict(gotF))
	c.strict = len(c.diffs) == 0
	c.insensitive = len(gDiffFields(gNormalizeInsensitive(wantF), gNormalizeInsensitive(gotF))) == 0
	c.kinds = gClassify(c.diffs)
}

func gClassify(diffs []gFieldDiff) []string {
	has := map[string]bool{}
	for _, d := range diffs {
		switch {
		case d.Want != "" && d.Got != "" && !strings.HasPrefix(d.Want, `"`) && strings.HasPrefix(d.Got, `"`) && `"`+d.Want+`"` == d.Got:
			has[kindType] = true
		case d.Field == "Error" && (d.Want == "" || d.Got == ""):
			if gMissingText.MatchString(d.Want + d.Got) {
				has[kindMissing] = true
			} else {
				has[kindErrorResult] = true
			}
		case d.Field == "Error":
			has[kindErrorText] = true
		case gNormalizeNumbers(d.Want) == gNormalizeNumbers(d.Got):
			has[kindNumber] = true
		case gMaskErrors(d.Want) == gMaskErrors(d.Got):
			has[kindErrorText] = true
		case d.Field == "Output.data":
			if gMissingText.MatchString(d.Want + d.Got) {
				has[kindMissing] = true
			} else {
				has[kindOutput] = true
			}
		case d.Field == "Output.prompt":
			has[kindPrompt] = true
		case d.Field == "Output.print":
			has[kindPrint] = true
		case strings.HasPrefix(d.Field, "Messages") || strings.HasPrefix(d.Field, "Spawns") || strings.HasPrefix(d.Field, "Assignments"):
			has[kindMessages] = true
		default:
			has[kindOther] = true
		}
	}
	var out []string
	for _, k := range kindOrder {
		if has[k] {
			out = append(out, k)
		}
	}
	return out
}

// kind is the case's main kind of difference.
func (c *gsCase) kind() string {
	if c.decodeErr != nil {
		return kindOther
	}
	if len(c.kinds) == 0 {
		return ""
	}
	return c.kinds[0]
}

// gShow renders a field's JSON text for people: a string as a Go quoted string (escapes visible).
func gShow(v string, limit int) string {
	if v == "" {
		return "(absent)"
	}
	var s string
	if strings.HasPrefix(v, `"`) && json.Unmarshal([]byte(v), &s) == nil {
		v = strconv.Quote(s)
	}
	if limit > 0 && len(v) > limit {
		v = v[:limit] + fmt.Sprintf("…(%d bytes)", len(v))
	}
	return v
}

func (c *gsCase) describe() string {
	if c.decodeErr != nil {
		return "  golden result: " + c.decodeErr.Error()
	}
	var b strings.Builder
	for _, d := range c.diffs {
		fmt.Fprintf(&b, "  %s:\n    aos 2.0.0: %s\n    aonode:    %s\n", d.Field, gShow(d.Want, 2000), gShow(d.Got, 2000))
	}
	return b.String()
}

// TestGoldenCompare pins the comparison itself: what the normalisations let through and what they do not.
func TestGoldenCompare(t *testing.T) {
	const prompt = `"\u001b[32maos\u001b[90m@\u001b[34maos-%s\u001b[90m[Inbox:\u001b[31m%d\u001b[90m]\u001b[0m> "`
	p := func(v string, n int) string { return fmt.Sprintf(prompt, v, n) }
	msg := func(tags, data string) string {
		return `{"Messages":[{"Target":"T","Anchor":"01","Data":` + data + `,"Tags":[` + tags + `]}]}`
	}
	fixed := `{"name":"Data-Protocol","value":"ao"},{"name":"Variant","value":"ao.TN.1"},{"name":"Type","value":"Message"},{"name":"Reference","value":"1"}`
	cases := []struct {
		name                string
		want, got           string
		strict, insensitive bool
		shift               bool
	}{
		{"the same", `{"Output":{"data":"2","prompt":` + p("2.0.0", 0) + `}}`, `{"Output":{"data":"2","prompt":` + p("2.0.0", 0) + `}}`, true, true, false},
		{"version token in the prompt", `{"Output":{"prompt":` + p("2.0.0", 0) + `}}`, `{"Output":{"prompt":` + p("2.0.4", 0) + `}}`, true, true, false},
		{"Inbox count", `{"Output":{"prompt":` + p("2.0.0", 0) + `}}`, `{"Output":{"prompt":` + p("2.0.0", 1) + `}}`, false, false, false},
		{"Inbox count with the spawn message kept", `{"Output":{"prompt":` + p("2.0.0", 0) + `}}`, `{"Output":{"prompt":` + p("2.0.0", 1) + `}}`, true, true, true},
		{"debug Output.test, absent print, GasUsed, empty Patches", `{"Output":{"data":"x","test":"dump"},"Patches":[],"GasUsed":0}`, `{"Output":{"data":"x","print":false},"GasUsed":123}`, true, true, false},
		{"print flag", `{"Output":{"data":"x","print":true}}`, `{"Output":{"data":"x"}}`, false, false, false},
		{"Patches not empty", `{"Patches":[{"x":1}]}`, `{}`, false, false, false},
		{"empty lists and absent lists", `{"Error":"e"}`, `{"Error":"e","Messages":[],"Spawns":[],"Assignments":[]}`, true, true, false},
		{"tags from a table, in another order", msg(fixed+`,{"name":"A","value":"1"},{"name":"B","value":"2"}`, `"d"`), msg(fixed+`,{"name":"B","value":"2"},{"name":"A","value":"1"}`, `"d"`), true, true, false},
		{"the fixed tags in another order", msg(`{"name":"Variant","value":"ao.TN.1"},{"name":"Data-Protocol","value":"ao"},{"name":"Type","value":"Message"},{"name":"Reference","value":"1"}`, `"d"`), msg(fixed, `"d"`), false, false, false},
		{"a tag value that is a number", msg(fixed+`,{"name":"Q","value":100}`, `"d"`), msg(fixed+`,{"name":"Q","value":"100"}`, `"d"`), false, false, false},
		{"missing Data is empty Data", `{"Messages":[{"Target":"T","Anchor":"01","Tags":[]}]}`, msg(``, `""`), true, true, false},
		{"JSON Data with keys in another order", msg(fixed, `"{\"a\":1,\"b\":[1,2]}"`), msg(fixed, `"{\"b\":[1,2],\"a\":1}"`), true, true, false},
		{"JSON Data with 1.0 for 1", msg(fixed, `"{\"a\":1.0}"`), msg(fixed, `"{\"a\":1}"`), false, false, false},
		{"Error wording", `{"Error":"[string \"aos\"]:1: boom"}`, `{"Error":"aos:1: boom"}`, false, true, false},
		{"Error as a number", `{"Error":2}`, `{"Error":"2"}`, false, true, false},
		{"Error against none", `{"Error":"x"}`, `{"Output":{"data":""}}`, false, false, false},
		{"error text in the output", `{"Output":{"data":"[string \"aos\"]:1: attempt to index a nil value (local 'x')"}}`, `{"Output":{"data":"aos:1: attempt to index a non-table object(nil) with key 'y'"}}`, false, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got Result
			gc := &gsCase{Want: []byte(c.want), spawnInInbox: c.shift}
			if err := json.Unmarshal([]byte(c.got), &got); err != nil {
				t.Fatalf("bad test input %s: %v", c.got, err)
			}
			gc.Got = got
			gc.compare()
			if gc.decodeErr != nil {
				t.Fatal(gc.decodeErr)
			}
			if gc.strict != c.strict || gc.insensitive != c.insensitive {
				t.Errorf("strict %v insensitive %v, want %v %v; diffs %+v", gc.strict, gc.insensitive, c.strict, c.insensitive, gc.diffs)
			}
		})
	}
}
