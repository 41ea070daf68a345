package node

import (
	"context"
	"strconv"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/gateway"
	"github.com/aonode/aonode/internal/luavm"
	"github.com/aonode/aonode/node/config"
	"github.com/aonode/aonode/node/cu"
	"github.com/aonode/aonode/node/metrics"
	"github.com/aonode/aonode/node/recovery"
)

// snapshotOptions is the CU's snapshot policy from the config.
func snapshotOptions(c config.CUConfig) cu.SnapshotOptions {
	o := cu.SnapshotOptions{
		Messages: c.SnapshotMessages, EvalTime: c.SnapshotEvalTime,
		CheckpointMessages: c.CheckpointMessages, CheckpointEvalTime: c.CheckpointEvalTime,
		CheckpointOwners: c.CheckpointOwners, CheckpointMinNonce: cu.DefaultSnapshotOptions.CheckpointMinNonce,
		CostRatio: c.SnapshotCostRatio,
	}
	if c.CheckpointMessages > 0 {
		// A CU checkpointing by count has none for a shorter process: replay it without asking the gateway.
		o.CheckpointMinNonce = c.CheckpointMessages
	}
	return o
}

// gatewayCheckpoints finds a process's checkpoints on the gateway by their tags and rebuilds their items
// (verified) the way recovery rebuilds messages.
type gatewayCheckpoints struct {
	gw  *gateway.Client
	rec *recovery.Recoverer
}

// checkpointsListed is how many of the newest checkpoints are considered.
const checkpointsListed = 20

func (g gatewayCheckpoints) Checkpoints(ctx context.Context, pid string, owners []string) ([]cu.CheckpointRef, error) {
	txs, _, err := g.gw.Transactions(ctx, gateway.TxQuery{
		Owners: owners,
		Tags: []gateway.TagFilter{
			{Name: "Type", Values: []string{cu.CheckpointType}},
			{Name: "Process", Values: []string{pid}},
		},
		Sort: gateway.SortHeightDesc, First: checkpointsListed,
	})
	if err != nil {
		return nil, err
	}
	out := make([]cu.CheckpointRef, 0, len(txs))
	for _, t := range txs {
		for _, tg := range t.Tags {
			if tg.Name == "Nonce" {
				if n, err := strconv.ParseInt(tg.Value, 10, 64); err == nil {
					out = append(out, cu.CheckpointRef{ID: t.ID, Nonce: n, Owner: t.Owner.Address})
				}
				break
			}
		}
	}
	return out, nil
}

func (g gatewayCheckpoints) Fetch(ctx context.Context, ref cu.CheckpointRef) (*bundler.Item, error) {
	return g.rec.Item(ctx, ref.ID)
}

// cuCounters exposes the CU's evaluation and snapshot counts on /metrics.
func cuCounters(m *metrics.Metrics, c *cu.Service) {
	for _, k := range []struct {
		name, help string
		get        func(cu.Stats) int64
	}{
		{"aonode_cu_evaluations_total", "Messages and cron ticks evaluated.", func(s cu.Stats) int64 { return s.Evaluated }},
		{"aonode_cu_snapshots_total", "Process state snapshots taken.", func(s cu.Stats) int64 { return s.SnapshotsTaken }},
		{"aonode_cu_snapshot_restores_total", "Processes started from a stored or cached snapshot.", func(s cu.Stats) int64 { return s.SnapshotRestores }},
		{"aonode_cu_snapshot_failures_total", "Snapshots not taken or not usable (replayed instead).", func(s cu.Stats) int64 { return s.SnapshotFailures }},
		{"aonode_cu_snapshot_refused_total", "Snapshots and checkpoints not used because another runtime version, gopher-lua or bytecode format made them.", func(s cu.Stats) int64 { return s.SnapshotsRefused }},
		{"aonode_cu_fork_failures_total", "Dry-runs whose process VM could not be copied (rebuilt by a replay).", func(s cu.Stats) int64 { return s.ForkFailures }},
		{"aonode_cu_checkpoints_queued_total", "Checkpoints queued for upload to Arweave.", func(s cu.Stats) int64 { return s.CheckpointsQueued }},
		{"aonode_cu_checkpoint_restores_total", "Processes started from a gateway checkpoint.", func(s cu.Stats) int64 { return s.CheckpointRestores }},
		{"aonode_cu_evictions_total", "Idle processes unloaded (cu.max_loaded_processes).", func(s cu.Stats) int64 { return s.Evictions }},
		{"aonode_cu_dry_runs_refused_total", "Dry-runs answered 429 because cu.max_dry_runs were running.", func(s cu.Stats) int64 { return s.DryRunsRefused }},
		{"aonode_cu_reverts_total", "VMs rebuilt to drop the state of an evaluation whose result was an Error.", func(s cu.Stats) int64 { return s.Reverts }},
		{"aonode_cu_follow_failures_total", "Reads answered from the local copy because the process's SU could not be read.", func(s cu.Stats) int64 { return s.FollowFailures }},
		{"aonode_cu_results_handed_off_total", "Results the MU took as the CU evaluated them, without reading the stored copy.", func(s cu.Stats) int64 { return s.HandedOff }},
	} {
		m.Counter(k.name, k.help, func() float64 { return float64(k.get(c.Stats())) })
	}
}

// runtimeGauges exposes the gopher-lua layout check (1: the layout aonode was written against; a node
// whose check fails does not start) and, per runtime the CU runs, its version and what its snapshots are
// stamped with.
func runtimeGauges(m *metrics.Metrics, c *cu.Service) error {
	m.Gauge("aonode_luavm_layout_ok", "1 when gopher-lua's internals have the layout aonode was written against.", nil,
		func() float64 {
			if luavm.Check() != nil {
				return 0
			}
			return 1
		})
	set, err := c.Runtimes()
	if err != nil {
		return err
	}
	for i, rt := range set.Runtimes() {
		st := rt.Stamp()
		m.Gauge("aonode_runtime_info", "The process runtimes the CU runs (current: the one this node publishes its module for).",
			map[string]string{"runtime": st.Runtime, "digest": st.Digest, "gopher_lua": st.LuaVM, "bytecode": st.Bytecode,
				"current": strconv.FormatBool(i == 0)}, func() float64 { return 1 })
	}
	return nil
}
