// Package runtime is the seam between the CU and the code that runs processes. A Runtime is one exact
// version of a process runtime (for aos-lua: its Lua files and the Go host they need, node/runtime/aoslua);
// the CU evaluates every process with the runtime its module names (Set.Resolve), and touches a process
// only through an Instance: handle a message, fork it for a dry-run, snapshot it, restore it, close it.
//
// Exactness is the point: a module names one runtime version and its digest, and a CU that has no
// runtime with exactly that name and digest refuses the module instead of running something close to
// it, so an aonode upgrade never changes an existing process's results and two CUs never disagree. The
// limits that decide results (compute and memory) come from the module too (Set.Resolve), bounded by
// what the CU allows.
package runtime

import (
	"errors"
	"fmt"

	"github.com/aonode/aonode/node/aos"
)

// The AO data a runtime and the CU exchange (the aos package's types, which every runtime speaks).
type (
	Message       = aos.Message
	Result        = aos.Result
	Env           = aos.Env
	ProcessInfo   = aos.ProcessInfo
	ModuleInfo    = aos.ModuleInfo
	Tag           = aos.Tag
	OutMessage    = aos.OutMessage
	OutSpawn      = aos.OutSpawn
	OutAssignment = aos.OutAssignment
	Output        = aos.Output
)

// Version names one runtime exactly: what a module pins.
type Version struct {
	Format string // the Module-Format it runs ("aos-lua")
	Name   string // Runtime-Version, e.g. "aos-lua/1"
	Digest string // Runtime-Digest: hex SHA-256 of everything that makes it (code, host version, VM build)
}

func (v Version) String() string {
	d := v.Digest
	if len(d) > 16 {
		d = d[:16]
	}
	return v.Name + " (digest " + d + ")"
}

// Limits bound each evaluation of a process. They decide results (a message stopped by a limit is an
// Error result at a deterministic point), so they come from the process's module, the same on every CU.
type Limits struct {
	Compute int64 // instructions one message may run
	Memory  int64 // bytes the process's state may take
}

// Stamp says what made a snapshot: the runtime, and the parts of the build its snapshots depend on. A
// snapshot is only restored by a runtime with the same stamp.
type Stamp struct {
	Runtime  string // Version.Name
	Digest   string // Version.Digest
	LuaVM    string // the VM module the runtime is built on (gopher-lua@version)
	Bytecode string // the format of the compiled code snapshots hold
}

// Differs names the first field of s that differs from want, or "".
func (s Stamp) Differs(want Stamp) string {
	switch {
	case s.Runtime != want.Runtime:
		return fmt.Sprintf("runtime %q, not %q", s.Runtime, want.Runtime)
	case s.Digest != want.Digest:
		return fmt.Sprintf("runtime digest %q, not %q", s.Digest, want.Digest)
	case s.LuaVM != want.LuaVM:
		return fmt.Sprintf("gopher-lua %q, not %q", s.LuaVM, want.LuaVM)
	case s.Bytecode != want.Bytecode:
		return fmt.Sprintf("bytecode format %q, not %q", s.Bytecode, want.Bytecode)
	}
	return ""
}

// ErrStale is wrapped by the errors of a restore refused because another runtime or build made the
// snapshot: the caller goes on with an older one or a replay.
var ErrStale = errors.New("state made by another runtime build")

// Runtime is one exact version of a process runtime.
type Runtime interface {
	Version() Version
	// Stamp is what this runtime's snapshots carry, and what a snapshot must carry to be restored.
	Stamp() Stamp
	// Source is the module data of the runtime (for aos-lua, its Lua files).
	Source() []byte
	// DefaultLimits are the limits of a module that sets none.
	DefaultLimits() Limits
	// New starts a process with env under limits.
	New(env Env, limits Limits) (Instance, error)
}

// Instance is one live process.
type Instance interface {
	// Handle evaluates one message. A failure of the process (an error, a limit) is Result.Error.
	Handle(Message) Result
	// Fork is an independent copy, for a read-only evaluation.
	Fork() (Instance, error)
	// Snapshot appends the process's state between messages to dst (an error when it holds state that
	// cannot be: the caller keeps its last snapshot, or replays). Appending lets the caller put its own
	// header first and size the buffer from the last snapshot: a large state is not copied again.
	Snapshot(dst []byte) ([]byte, error)
	// Restore replaces the state of a fresh instance by a snapshot. An error wraps ErrStale when another
	// runtime or build made the snapshot; after any error the instance must be closed.
	Restore(snapshot []byte) error
	// StateJSON is a JSON view of the process's global data.
	StateJSON() ([]byte, error)
	Close()
}
