// Package aoslua is the aos-lua runtime: AOS's process API in Lua (node/aos/lua) on the Go host of node/aos
// (gopher-lua, the builtins and their fast paths, the string library, the 5.3 translator, the limits), as
// a runtime.Runtime the CU selects by module.
//
// A release of the runtime is its Lua files together with the host they need. Release names the one this
// binary makes; its digest (Version.Digest) covers the Lua files, HostVersion, the gopher-lua module and
// the bytecode format, so any change to them is another digest, and a module pinned to the old digest is
// refused rather than run differently. README ("The process runtime") says how a release is cut, kept and
// retired.
package aoslua

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"sync"

	"github.com/aonode/aonode/internal/luavm"
	"github.com/aonode/aonode/node/aos"
	"github.com/aonode/aonode/node/runtime"
	"github.com/aonode/aonode/node/snapshot"
)

// Format is the Module-Format of aos-lua modules.
const Format = "aos-lua"

// Release is the runtime release this binary's Lua (node/aos/lua) and Go host make.
const Release = "aos-lua/4"

// HostVersion is the version of the Go host as processes can observe it: the builtins, the fast paths,
// the string library, the 5.3 translator, the limits and how they are charged, the outbox bounds. It is in
// every release's digest: bump it (and cut a release) whenever a change there can change a result.
const HostVersion = 4

// Runtime is one release of aos-lua.
type Runtime struct {
	name   string
	rt     *aos.Runtime
	digest string
}

// New is release name made of the Lua files lua/*.lua of fsys on this binary's host.
func New(name string, fsys fs.FS) (*Runtime, error) {
	rt, err := aos.Compile(fsys)
	if err != nil {
		return nil, fmt.Errorf("aos-lua %s: %w", name, err)
	}
	return newRuntime(name, rt), nil
}

func newRuntime(name string, rt *aos.Runtime) *Runtime {
	h := sha256.New()
	for _, part := range []string{Format, name, "host " + strconv.Itoa(HostVersion), luavm.ModuleVersion(), luavm.BytecodeFormat()} {
		h.Write(binary.AppendUvarint(nil, uint64(len(part))))
		h.Write([]byte(part))
	}
	h.Write(rt.Source())
	return &Runtime{name: name, rt: rt, digest: hex.EncodeToString(h.Sum(nil))}
}

var current = sync.OnceValues(func() (*Runtime, error) {
	rt, err := aos.Embedded()
	if err != nil {
		return nil, fmt.Errorf("aos-lua %s: %w", Release, err)
	}
	return newRuntime(Release, rt), nil
})

// Current is Release: the Lua embedded in this binary.
func Current() (*Runtime, error) { return current() }

// kept are the earlier releases this binary still runs (their Lua files, on this host): none yet.
var kept = []struct {
	name string
	fsys fs.FS
}{}

// Runtimes is every aos-lua release this binary runs, Current first.
func Runtimes() ([]runtime.Runtime, error) {
	cur, err := Current()
	if err != nil {
		return nil, err
	}
	out := []runtime.Runtime{cur}
	for _, k := range kept {
		rt, err := New(k.name, k.fsys)
		if err != nil {
			return nil, err
		}
		out = append(out, rt)
	}
	return out, nil
}

// Set is the runtime set of a CU running every aos-lua release of this binary.
func Set() (*runtime.Set, error) {
	rts, err := Runtimes()
	if err != nil {
		return nil, err
	}
	return runtime.NewSet(rts...)
}

func (r *Runtime) Version() runtime.Version {
	return runtime.Version{Format: Format, Name: r.name, Digest: r.digest}
}

func (r *Runtime) Stamp() runtime.Stamp {
	return runtime.Stamp{Runtime: r.name, Digest: r.digest, LuaVM: luavm.ModuleVersion(), Bytecode: luavm.BytecodeFormat()}
}

func (r *Runtime) Source() []byte { return r.rt.Source() }

func (r *Runtime) DefaultLimits() runtime.Limits {
	return runtime.Limits{Compute: aos.DefaultComputeLimit, Memory: aos.DefaultMemoryLimit}
}

func (r *Runtime) New(env runtime.Env, l runtime.Limits) (runtime.Instance, error) {
	p, err := r.rt.New(env, aos.Options{ComputeLimit: l.Compute, MemoryLimit: l.Memory})
	if err != nil {
		return nil, err
	}
	return &instance{p: p, rt: r}, nil
}

// snapshotOptions name the runtime in its VM snapshots.
func (r *Runtime) snapshotOptions() snapshot.Options {
	return snapshot.Options{Runtime: r.name + " " + r.digest, Builtins: r.rt.Builtins()}
}

// instance is one aos-lua process.
type instance struct {
	p  *aos.Process
	rt *Runtime
}

func (i *instance) Handle(m runtime.Message) runtime.Result { return i.p.Handle(m) }

func (i *instance) Fork() (runtime.Instance, error) {
	f, err := i.p.Fork()
	if err != nil {
		return nil, err
	}
	return &instance{p: f, rt: i.rt}, nil
}

func (i *instance) StateJSON() ([]byte, error) { return i.p.StateJSON() }

func (i *instance) Close() { i.p.Close() }

// A snapshot of an aos-lua process: magic, version, the memory accounting (aos.MemoryState: a restored
// process reaches its memory limit exactly where one that never stopped does) as two varints, then the
// VM snapshot (node/snapshot: stamped and checksummed).
const (
	snapMagic   = "AOSLUA"
	snapVersion = 1
)

var errNotSnapshot = errors.New("aos-lua: not an aos-lua snapshot")

func (i *instance) Snapshot(dst []byte) ([]byte, error) {
	mem := i.p.MemoryState()
	start := len(dst)
	dst = append(dst, snapMagic...)
	dst = append(dst, snapVersion)
	dst = binary.AppendVarint(dst, mem.Exact)
	dst = binary.AppendVarint(dst, mem.Since)
	out, err := snapshot.AppendEncode(dst, i.p.L, i.rt.snapshotOptions())
	if err != nil {
		return dst[:start], err
	}
	return out, nil
}

func (i *instance) Restore(data []byte) error {
	if !bytes.HasPrefix(data, []byte(snapMagic)) || len(data) < len(snapMagic)+1 {
		return errNotSnapshot
	}
	if v := data[len(snapMagic)]; v != snapVersion {
		return fmt.Errorf("%w: aos-lua snapshot version %d, not %d", runtime.ErrStale, v, snapVersion)
	}
	r := data[len(snapMagic)+1:]
	var mem aos.MemoryState
	for _, p := range []*int64{&mem.Exact, &mem.Since} {
		n, k := binary.Varint(r)
		if k <= 0 {
			return errNotSnapshot
		}
		*p, r = n, r[k:]
	}
	if err := snapshot.Decode(r, i.p.L, i.rt.snapshotOptions()); err != nil {
		if errors.Is(err, snapshot.ErrStale) {
			return fmt.Errorf("%w: %w", runtime.ErrStale, err)
		}
		return err
	}
	i.p.SetMemoryState(mem)
	return nil
}
