package runtime

import (
	"fmt"
	"strconv"
	"strings"
)

// The tags by which a module pins its runtime and limits.
const (
	TagFormat       = "Module-Format"
	TagVersion      = "Runtime-Version"
	TagDigest       = "Runtime-Digest"
	TagComputeLimit = "Compute-Limit"
	TagMemoryLimit  = "Memory-Limit"
)

// Set is the runtimes a CU can run: the current one first (what this node publishes its module for),
// then the earlier releases kept in the binary.
type Set struct {
	rts []Runtime
}

// NewSet is a set of runtimes, current first. Two runtimes of one name are an error.
func NewSet(rts ...Runtime) (*Set, error) {
	if len(rts) == 0 {
		return nil, fmt.Errorf("runtime: an empty set")
	}
	seen := map[string]bool{}
	for _, rt := range rts {
		v := rt.Version()
		if v.Name == "" || v.Format == "" || v.Digest == "" {
			return nil, fmt.Errorf("runtime: %q has an incomplete version", v.Name)
		}
		if seen[v.Name] {
			return nil, fmt.Errorf("runtime: %s is in the set twice", v.Name)
		}
		seen[v.Name] = true
	}
	return &Set{rts: rts}, nil
}

// Current is the runtime this node publishes its module for.
func (s *Set) Current() Runtime { return s.rts[0] }

// Runtimes are the runtimes of the set, current first.
func (s *Set) Runtimes() []Runtime { return s.rts }

// runnable lists the set's versions for refusals.
func (s *Set) runnable() string {
	var b strings.Builder
	for i, rt := range s.rts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(rt.Version().String())
	}
	return b.String()
}

// Refusal is why a CU cannot run a module exactly.
type Refusal struct {
	Module   string
	Reason   string
	Runnable string // the runtimes the CU has
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("module %s %s; this CU runs %s", r.Module, r.Reason, r.Runnable)
}

// Resolve is the runtime a module names and the limits it sets, or a *Refusal: the module must name
// exactly one Runtime-Version and Runtime-Digest, of a runtime in the set; its Compute-Limit and
// Memory-Limit (the runtime's defaults when absent) must not exceed caps (a zero cap is the runtime's
// default).
func (s *Set) Resolve(module string, tags []Tag, caps Limits) (Runtime, Limits, error) {
	refuse := func(format string, args ...any) (Runtime, Limits, error) {
		return nil, Limits{}, &Refusal{Module: module, Reason: fmt.Sprintf(format, args...), Runnable: s.runnable()}
	}
	values := func(name string) []string {
		var vs []string
		for _, t := range tags {
			if t.Name == name {
				vs = append(vs, t.Value)
			}
		}
		return vs
	}
	one := func(name string) (string, error) {
		switch vs := values(name); len(vs) {
		case 1:
			return vs[0], nil
		case 0:
			return "", fmt.Errorf("names no %s", name)
		default:
			return "", fmt.Errorf("has %d %s tags; a module names exactly one", len(vs), name)
		}
	}
	format, err := one(TagFormat)
	if err != nil {
		return refuse("%v", err)
	}
	known := false
	for _, r := range s.rts {
		known = known || r.Version().Format == format
	}
	if !known {
		return refuse("has Module-Format %q", format)
	}
	name, err := one(TagVersion)
	if err != nil {
		return refuse("%v", err)
	}
	digest, err := one(TagDigest)
	if err != nil {
		return refuse("%v", err)
	}
	var rt Runtime
	for _, r := range s.rts {
		if r.Version().Name == name {
			rt = r
		}
	}
	if rt == nil {
		return refuse("names runtime %s, which this CU does not have (retired, or from a newer aonode)", name)
	}
	v := rt.Version()
	if format != v.Format {
		return refuse("has Module-Format %q, but runtime %s runs %q", format, name, v.Format)
	}
	if digest != v.Digest {
		return refuse("names runtime %s with digest %s, but this CU's %s has digest %s (another build of that version)",
			name, digest, name, v.Digest)
	}
	def := rt.DefaultLimits()
	lim := def
	if vs := values(TagComputeLimit); len(vs) > 1 {
		return refuse("has %d %s tags", len(vs), TagComputeLimit)
	} else if len(vs) == 1 {
		if lim.Compute, err = strconv.ParseInt(vs[0], 10, 64); err != nil || lim.Compute <= 0 {
			return refuse("has %s %q, not a positive number of instructions", TagComputeLimit, vs[0])
		}
	}
	if vs := values(TagMemoryLimit); len(vs) > 1 {
		return refuse("has %d %s tags", len(vs), TagMemoryLimit)
	} else if len(vs) == 1 {
		if lim.Memory, err = ParseMemory(vs[0]); err != nil {
			return refuse("has %s %q: %v", TagMemoryLimit, vs[0], err)
		}
	}
	if caps.Compute <= 0 {
		caps.Compute = def.Compute
	}
	if caps.Memory <= 0 {
		caps.Memory = def.Memory
	}
	if lim.Compute > caps.Compute {
		return refuse("asks %s %d, more than the %d this CU allows (cu.compute_limit)", TagComputeLimit, lim.Compute, caps.Compute)
	}
	if lim.Memory > caps.Memory {
		return refuse("asks %s %s, more than the %s this CU allows (cu.memory_limit)", TagMemoryLimit,
			FormatMemory(lim.Memory), FormatMemory(caps.Memory))
	}
	return rt, lim, nil
}

// ModuleTags are the tags by which a module pins rt and limits.
func ModuleTags(rt Runtime, limits Limits) []Tag {
	v := rt.Version()
	return []Tag{
		{Name: TagFormat, Value: v.Format},
		{Name: TagVersion, Value: v.Name},
		{Name: TagDigest, Value: v.Digest},
		{Name: TagComputeLimit, Value: strconv.FormatInt(limits.Compute, 10)},
		{Name: TagMemoryLimit, Value: FormatMemory(limits.Memory)},
	}
}

var memoryUnits = []struct {
	name string
	size int64
}{{"tb", 1 << 40}, {"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"b", 1}}

// ParseMemory reads a Memory-Limit as AO modules write it: "1-gb", "512-mb", "64-kb" (binary units), or a
// number of bytes.
func ParseMemory(s string) (int64, error) {
	num, unit, hasUnit := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "-")
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("not a positive size")
	}
	if !hasUnit {
		return n, nil
	}
	for _, u := range memoryUnits {
		if u.name == unit {
			if n > (1<<63-1)/u.size {
				return 0, fmt.Errorf("too large")
			}
			return n * u.size, nil
		}
	}
	return 0, fmt.Errorf("unknown unit %q (b, kb, mb, gb, tb)", unit)
}

// FormatMemory writes a size in the largest unit that divides it ("512-mb").
func FormatMemory(n int64) string {
	for _, u := range memoryUnits {
		if n > 0 && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + "-" + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}
