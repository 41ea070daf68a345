package aos

// The AOS conformance suite: table-driven fixtures in testdata/conformance/*.yaml, each a process that handles
// a list of messages in order, with expectations on every result. The expected values describe AOS's own
// behaviour (permaweb/aos process/*.lua); a fixture file covers one area of the API, and any file dropped in
// the directory is run.
//
// A file is a YAML list of fixtures:
//
//	- name: what the fixture shows
//	  requires: [resume-across-messages]   # optional: runtime capabilities (see probes); skipped without them
//	  skip: reason                         # optional
//	  options: { timeout: 2s }             # optional: aos.Options, field names in lower case
//	  process:                             # optional; every field has a default (see defaults below)
//	    id: AOS_PROCESS
//	    owner: OWNER_WALLET                # signer of the spawn message
//	    from: OWNER_WALLET                 # From of the spawn message (default: owner)
//	    module: AOS_MODULE
//	    scheduler: SCHEDULER_WALLET        # "" for no Scheduler tag
//	    tags: { Name: kv, Authority: X }   # added after Data-Protocol, Variant, Type=Process, Module, Scheduler
//	    data: ""                           # Data of the spawn message
//	    spawn: true                        # false: no spawn message is handled first
//	    expect: { ... }                    # expectations on the spawn message's result (default: no Error)
//	  messages:
//	    - name: label                      # optional, for failure messages
//	      eval: "return 1 + 1"             # shorthand for tag Action=Eval and this Data
//	      action: Ping                     # shorthand for a first tag Action=Ping
//	      from: USER_ONE                   # default: the process owner
//	      owner: USER_ONE                  # default: from
//	      target: AOS_PROCESS              # default: the process id
//	      id: MSG_1                        # default: MSG_<n>
//	      data: "..."
//	      tags: { Key: v }                 # a mapping (order kept) or a list of {name, value}
//	      timestamp: 1700000001000         # default: 1700000000000 + 1000 * n
//	      block-height: 1001               # default: 1000 + n
//	      nonce: 1                         # default: n
//	      cron: false
//	      read-only: false
//	      forwarded-by: ""
//	      expect:
//	        error: "substring" | [substrings]   # the Error must contain each; without it the Error must be empty
//	        error_exact: "..."
//	        error_not_contains: [..]
//	        output: "exact Output.data"
//	        output_plain: "exact Output.data once ANSI colours are removed"
//	        output_contains: [..]              # on the plain text
//	        output_not_contains: [..]          # on the plain text
//	        prompt_match: "regexp on the plain prompt"
//	        print: true
//	        messages: [{ target, anchor, data, data_contains, tags: {subset}, no_tags: [..], tags_prefix: [..],
//	                      tags_exact: [..] }]
//	        spawns: [ same as messages ]
//	        assignments: [{ processes: [..], message: id }]
//
// messages, spawns and assignments are checked only when given; when given, their count must match (an empty
// list means none). YAML double-quoted strings write the ANSI escape as "\e".

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

// Default identities of a fixture process. Short ids keep AOS's "abc...xyz" renderings readable.
const (
	cfProcessID = "AOS_PROCESS"
	cfOwner     = "OWNER_WALLET"
	cfModule    = "AOS_MODULE"
	cfScheduler = "SCHEDULER_WALLET"
	cfBaseTime  = int64(1_700_000_000_000)
)

// cfTags is an ordered tag list, written in YAML as a mapping or as a list of {name, value}.
type cfTags []Tag

func (ts *cfTags) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			*ts = append(*ts, Tag{Name: n.Content[i].Value, Value: n.Content[i+1].Value})
		}
		return nil
	case yaml.SequenceNode:
		for _, e := range n.Content {
			var t struct {
				Name  string `yaml:"name"`
				Value string `yaml:"value"`
			}
			if err := e.Decode(&t); err != nil {
				return err
			}
			*ts = append(*ts, Tag{Name: t.Name, Value: t.Value})
		}
		return nil
	}
	return fmt.Errorf("line %d: tags must be a mapping or a list of {name, value}", n.Line)
}

// cfStrings is one string or a list of them.
type cfStrings []string

func (s *cfStrings) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = cfStrings{n.Value}
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return err
	}
	*s = list
	return nil
}

type cfOut struct {
	Target       *string   `yaml:"target"`
	Anchor       *string   `yaml:"anchor"`
	Data         *string   `yaml:"data"`
	DataContains cfStrings `yaml:"data_contains"`
	Tags         cfTags    `yaml:"tags"`
	NoTags       []string  `yaml:"no_tags"`
	TagsExact    *cfTags   `yaml:"tags_exact"`
	TagsPrefix   cfTags    `yaml:"tags_prefix"`
}

type cfAssignment struct {
	Processes []string `yaml:"processes"`
	Message   string   `yaml:"message"`
}

type cfExpect struct {
	Error             *cfStrings      `yaml:"error"`
	ErrorExact        *string         `yaml:"error_exact"`
	ErrorNotContains  cfStrings       `yaml:"error_not_contains"`
	Output            *string         `yaml:"output"`
	OutputPlain       *string         `yaml:"output_plain"`
	OutputContains    cfStrings       `yaml:"output_contains"`
	OutputNotContains cfStrings       `yaml:"output_not_contains"`
	PromptMatch       *string         `yaml:"prompt_match"`
	Print             *bool           `yaml:"print"`
	Messages          *[]cfOut        `yaml:"messages"`
	Spawns            *[]cfOut        `yaml:"spawns"`
	Assignments       *[]cfAssignment `yaml:"assignments"`
}

type cfProcess struct {
	ID        string    `yaml:"id"`
	Owner     string    `yaml:"owner"`
	From      string    `yaml:"from"`
	Module    string    `yaml:"module"`
	Scheduler *string   `yaml:"scheduler"`
	Tags      cfTags    `yaml:"tags"`
	Data      string    `yaml:"data"`
	Spawn     *bool     `yaml:"spawn"`
	Expect    *cfExpect `yaml:"expect"`
}

type cfMessage struct {
	Name        string   `yaml:"name"`
	ID          string   `yaml:"id"`
	From        string   `yaml:"from"`
	Owner       string   `yaml:"owner"`
	Target      string   `yaml:"target"`
	Anchor      string   `yaml:"anchor"`
	Action      string   `yaml:"action"`
	Eval        *string  `yaml:"eval"`
	Data        string   `yaml:"data"`
	Tags        cfTags   `yaml:"tags"`
	Timestamp   *int64   `yaml:"timestamp"`
	BlockHeight *int64   `yaml:"block-height"`
	Nonce       *int64   `yaml:"nonce"`
	Cron        bool     `yaml:"cron"`
	ReadOnly    bool     `yaml:"read-only"`
	ForwardedBy string   `yaml:"forwarded-by"`
	HashChain   string   `yaml:"hash-chain"`
	Expect      cfExpect `yaml:"expect"`
}

type cfFixture struct {
	Name     string      `yaml:"name"`
	Requires []string    `yaml:"requires"`
	Skip     string      `yaml:"skip"`
	Options  Options     `yaml:"options"`
	Process  cfProcess   `yaml:"process"`
	Messages []cfMessage `yaml:"messages"`
}

// cfProbes are runtime capabilities a fixture may require. Each answers "" when the runtime has it, or why
// not. Other fixture files may add their own.
var cfProbes = map[string]func() string{
	"resume-across-messages": probeResumeAcrossMessages,
}

var (
	cfProbeMu      sync.Mutex
	cfProbeResults = map[string]string{}
)

// cfRequire skips the test unless the runtime has every capability in caps (each probe runs once).
func cfRequire(t *testing.T, caps []string) {
	t.Helper()
	for _, c := range caps {
		probe, ok := cfProbes[c]
		if !ok {
			t.Fatalf("unknown capability %q", c)
		}
		cfProbeMu.Lock()
		why, done := cfProbeResults[c]
		if !done {
			why = probe()
			cfProbeResults[c] = why
		}
		cfProbeMu.Unlock()
		if why != "" {
			t.Skipf("runtime lacks %s: %s", c, why)
		}
	}
}

// probeResumeAcrossMessages: a coroutine suspended while one message is handled can be resumed while a later
// one is (AOS's Receive depends on it).
func probeResumeAcrossMessages() string {
	f := cfFixture{}
	p, err := f.newProcess()
	if err != nil {
		return err.Error()
	}
	defer p.Close()
	spawn := f.spawnMessage()
	if r := p.Handle(spawn); r.Error != "" {
		return "spawn: " + r.Error
	}
	if r := p.Handle(Message{Id: "P1", From: cfOwner, Owner: cfOwner, Target: cfProcessID, Tags: []Tag{{"Action", "Eval"}},
		Data: `ProbeCo = coroutine.create(function() coroutine.yield() return "resumed" end) coroutine.resume(ProbeCo)`}); r.Error != "" {
		return "setup: " + r.Error
	}
	r := p.Handle(Message{Id: "P2", From: cfOwner, Owner: cfOwner, Target: cfProcessID, Tags: []Tag{{"Action", "Eval"}},
		Data: `local ok, v = coroutine.resume(ProbeCo) return tostring(ok) .. " " .. tostring(v)`})
	if r.Output.Data != "true resumed" {
		return fmt.Sprintf("resuming in a later message gave %q %q", r.Output.Data, r.Error)
	}
	return ""
}

func (f *cfFixture) processID() string { return or(f.Process.ID, cfProcessID) }
func (f *cfFixture) owner() string     { return or(f.Process.Owner, cfOwner) }

func (f *cfFixture) processTags() []Tag {
	tags := []Tag{{"Data-Protocol", "ao"}, {"Variant", "ao.TN.1"}, {"Type", "Process"}, {"Module", or(f.Process.Module, cfModule)}}
	sched := cfScheduler
	if f.Process.Scheduler != nil {
		sched = *f.Process.Scheduler
	}
	if sched != "" {
		tags = append(tags, Tag{"Scheduler", sched})
	}
	return append(tags, f.Process.Tags...)
}

func (f *cfFixture) newProcess() (*Process, error) {
	mod := or(f.Process.Module, cfModule)
	env := Env{
		Process: ProcessInfo{Id: f.processID(), Owner: f.owner(), Tags: f.processTags()},
		Module:  ModuleInfo{Id: mod, Owner: f.owner(), Tags: []Tag{{"Data-Protocol", "ao"}, {"Type", "Module"}}},
	}
	return New(env, f.Options)
}

func (f *cfFixture) spawnMessage() Message {
	return Message{
		Id: f.processID(), Owner: f.owner(), From: or(f.Process.From, f.owner()), Target: f.processID(),
		Tags: f.processTags(), Data: f.Process.Data, Timestamp: cfBaseTime, BlockHeight: 1000,
	}
}

func (f *cfFixture) message(i int, m cfMessage) Message {
	n := int64(i + 1)
	from := or(m.From, f.owner())
	out := Message{
		Id: or(m.ID, fmt.Sprintf("MSG_%d", n)), From: from, Owner: or(m.Owner, from), Target: or(m.Target, f.processID()),
		Anchor: m.Anchor, Data: m.Data, Timestamp: cfBaseTime + 1000*n, BlockHeight: 1000 + n, Nonce: n,
		Cron: m.Cron, ReadOnly: m.ReadOnly, ForwardedBy: m.ForwardedBy, HashChain: m.HashChain,
	}
	if m.Timestamp != nil {
		out.Timestamp = *m.Timestamp
	}
	if m.BlockHeight != nil {
		out.BlockHeight = *m.BlockHeight
	}
	if m.Nonce != nil {
		out.Nonce = *m.Nonce
	}
	if m.Eval != nil {
		out.Tags = append(out.Tags, Tag{"Action", "Eval"})
		out.Data = *m.Eval
	} else if m.Action != "" {
		out.Tags = append(out.Tags, Tag{"Action", m.Action})
	}
	out.Tags = append(out.Tags, m.Tags...)
	return out
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func plain(s string) string { return ansi.ReplaceAllString(s, "") }

// check compares one result with its expectations and returns what differs.
func (e *cfExpect) check(r Result) []string {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	switch {
	case e.ErrorExact != nil:
		if r.Error != *e.ErrorExact {
			fail("Error %q, want exactly %q", r.Error, *e.ErrorExact)
		}
	case e.Error != nil:
		if r.Error == "" {
			fail("no Error, want one containing %q", []string(*e.Error))
		}
		for _, s := range *e.Error {
			if !strings.Contains(r.Error, s) {
				fail("Error %q does not contain %q", r.Error, s)
			}
		}
	default:
		if r.Error != "" {
			fail("unexpected Error %q", r.Error)
		}
	}
	for _, s := range e.ErrorNotContains {
		if strings.Contains(r.Error, s) {
			fail("Error %q contains %q", r.Error, s)
		}
	}
	if e.Output != nil && r.Output.Data != *e.Output {
		fail("Output.data %q, want %q", r.Output.Data, *e.Output)
	}
	text := plain(r.Output.Data)
	if e.OutputPlain != nil && text != *e.OutputPlain {
		fail("Output.data (plain) %q, want %q", text, *e.OutputPlain)
	}
	for _, s := range e.OutputContains {
		if !strings.Contains(text, s) {
			fail("Output.data (plain) %q does not contain %q", text, s)
		}
	}
	for _, s := range e.OutputNotContains {
		if strings.Contains(text, s) {
			fail("Output.data (plain) %q contains %q", text, s)
		}
	}
	if e.PromptMatch != nil {
		if ok, err := regexp.MatchString(*e.PromptMatch, plain(r.Output.Prompt)); err != nil || !ok {
			fail("Output.prompt (plain) %q does not match %q (%v)", plain(r.Output.Prompt), *e.PromptMatch, err)
		}
	}
	if e.Print != nil && r.Output.Print != *e.Print {
		fail("Output.print %v, want %v", r.Output.Print, *e.Print)
	}
	if e.Messages != nil {
		bad = append(bad, checkOuts("Messages", *e.Messages, outsOfMessages(r.Messages))...)
	}
	if e.Spawns != nil {
		bad = append(bad, checkOuts("Spawns", *e.Spawns, outsOfSpawns(r.Spawns))...)
	}
	if e.Assignments != nil {
		want := *e.Assignments
		if len(r.Assignments) != len(want) {
			fail("%d Assignments, want %d", len(r.Assignments), len(want))
		} else {
			for i, a := range want {
				got := r.Assignments[i]
				if got.Message != a.Message || strings.Join(got.Processes, ",") != strings.Join(a.Processes, ",") {
					fail("Assignments[%d] = %+v, want %+v", i, got, a)
				}
			}
		}
	}
	return bad
}

type cfGot struct {
	Target, Anchor, Data string
	Tags                 []OutTag
}

func outsOfMessages(ms []OutMessage) []cfGot {
	out := make([]cfGot, len(ms))
	for i, m := range ms {
		out[i] = cfGot{m.Target, m.Anchor, m.Data, m.Tags}
	}
	return out
}

func outsOfSpawns(ss []OutSpawn) []cfGot {
	out := make([]cfGot, len(ss))
	for i, s := range ss {
		out[i] = cfGot{"", s.Anchor, s.Data, s.Tags}
	}
	return out
}

func checkOuts(kind string, want []cfOut, got []cfGot) []string {
	if len(got) != len(want) {
		return []string{fmt.Sprintf("%d %s, want %d: %+v", len(got), kind, len(want), got)}
	}
	var bad []string
	for i, w := range want {
		g := got[i]
		fail := func(format string, args ...any) {
			bad = append(bad, fmt.Sprintf("%s[%d]: ", kind, i)+fmt.Sprintf(format, args...))
		}
		if w.Target != nil && g.Target != *w.Target {
			fail("Target %q, want %q", g.Target, *w.Target)
		}
		if w.Anchor != nil && g.Anchor != *w.Anchor {
			fail("Anchor %q, want %q", g.Anchor, *w.Anchor)
		}
		if w.Data != nil && g.Data != *w.Data {
			fail("Data %q, want %q", g.Data, *w.Data)
		}
		for _, s := range w.DataContains {
			if !strings.Contains(g.Data, s) {
				fail("Data %q does not contain %q", g.Data, s)
			}
		}
		for _, t := range w.Tags {
			found := false
			for _, gt := range g.Tags {
				if gt.Name == t.Name && gt.Value == t.Value {
					found = true
					break
				}
			}
			if !found {
				fail("no tag %s=%q in %v", t.Name, t.Value, g.Tags)
			}
		}
		for _, name := range w.NoTags {
			for _, gt := range g.Tags {
				if gt.Name == name {
					fail("unexpected tag %s=%q", gt.Name, gt.Value)
				}
			}
		}
		if len(w.TagsPrefix) > 0 {
			n := len(w.TagsPrefix)
			if n > len(g.Tags) {
				n = len(g.Tags)
			}
			a, _ := json.Marshal(g.Tags[:n])
			b, _ := json.Marshal([]Tag(w.TagsPrefix))
			if !bytes.Equal(a, b) {
				fail("Tags start %s, want %s", a, b)
			}
		}
		if w.TagsExact != nil {
			a, _ := json.Marshal(g.Tags)
			b, _ := json.Marshal([]Tag(*w.TagsExact))
			if !bytes.Equal(a, b) {
				fail("Tags %s, want %s", a, b)
			}
		}
	}
	return bad
}

func loadFixtures(t *testing.T, path string) []cfFixture {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var fs []cfFixture
	if err := dec.Decode(&fs); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return fs
}

func TestConformance(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "conformance", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		fixtures := loadFixtures(t, file)
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			seen := map[string]bool{}
			for i := range fixtures {
				f := &fixtures[i]
				if f.Name == "" || seen[f.Name] {
					t.Fatalf("fixture %d: missing or repeated name %q", i, f.Name)
				}
				seen[f.Name] = true
				t.Run(f.Name, func(t *testing.T) { runFixture(t, f) })
			}
		})
	}
}

func runFixture(t *testing.T, f *cfFixture) {
	if f.Skip != "" {
		t.Skip(f.Skip)
	}
	cfRequire(t, f.Requires)
	p, err := f.newProcess()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	report := func(label string, m Message, r Result, bad []string) {
		if len(bad) == 0 {
			return
		}
		res, _ := json.MarshalIndent(r, "", "  ")
		t.Errorf("%s (Tags %v, Data %q):\n  %s\nresult: %s", label, m.Tags, m.Data, strings.Join(bad, "\n  "), res)
	}
	if f.Process.Spawn == nil || *f.Process.Spawn {
		m := f.spawnMessage()
		r := p.Handle(m)
		exp := f.Process.Expect
		if exp == nil {
			exp = &cfExpect{}
		}
		report("spawn message", m, r, exp.check(r))
	}
	for i, cm := range f.Messages {
		m := f.message(i, cm)
		r := p.Handle(m)
		label := fmt.Sprintf("message %d", i+1)
		if cm.Name != "" {
			label += " (" + cm.Name + ")"
		}
		report(label, m, r, cm.Expect.check(r))
	}
}
