package cu

import (
	"strings"

	"github.com/aonode/aonode/bundler"
)

// withSchedulerAuthorities is a process's tags as the process sees them (ao.env.Process.Tags): its spawn's
// own, then the Authority tags its scheduler put on the spawn's assignment that the spawn does not already
// have. aonode's SU names its deployment's MU there, so a process spawned by a client that named no Authority
// (the MU cannot add a tag to an item the client signed) still trusts what the deployment's MUs push, and
// ao.authorities says so. The assignment is signed by the scheduler and is part of the schedule, so every CU
// replaying it sees the same tags.
func withSchedulerAuthorities(spawn []bundler.Tag, assignment *bundler.Item) []bundler.Tag {
	if assignment == nil {
		return spawn
	}
	have := map[string]bool{}
	for _, t := range spawn {
		if t.Name == "Authority" {
			have[t.Value] = true
		}
	}
	out := spawn
	for _, t := range assignment.Tags {
		if t.Name == "Authority" && t.Value != "" && !have[t.Value] {
			if len(out) == len(spawn) {
				out = append(make([]bundler.Tag, 0, len(spawn)+1), spawn...) // never write into the spawn's array
			}
			out = append(out, t)
			have[t.Value] = true
		}
	}
	return out
}

// trustedSigners are the signers whose From-Process tag the CU believes for a process: its Scheduler (aonode
// MUs before mu.wallet signed with the SU's wallet, and old schedules must replay the same) and every
// Authority. All of it comes from the process and its schedule, never from this CU, so every CU replaying the
// schedule trusts the same signers and computes the same results.
func trustedSigners(tags []bundler.Tag) map[string]bool {
	sched, _ := bundler.FirstTag(tags, "Scheduler")
	trusted := map[string]bool{sched: true}
	for _, t := range tags {
		if t.Name == "Authority" {
			for _, a := range strings.Split(t.Value, ",") {
				trusted[strings.TrimSpace(a)] = true
			}
		}
	}
	return trusted
}
