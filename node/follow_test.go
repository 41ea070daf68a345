package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/aonode/aonode/gateway"
	"github.com/aonode/aonode/internal/nodetest"
	"github.com/aonode/aonode/node/config"
	"github.com/aonode/aonode/node/store"
)

const kvCode = `Store = Store or {}
Handlers.add("set", Handlers.utils.hasMatchingTag("Action", "Set"), function (msg)
  Store[msg.Tags.Key] = msg.Data
  Handlers.utils.reply("set " .. msg.Tags.Key)(msg)
end)
Handlers.add("get", Handlers.utils.hasMatchingTag("Action", "Get"), function (msg)
  msg.reply({ Data = Store[msg.Tags.Key] or "none" })
end)`

// rawResult is a CU's /result answer as bytes, for byte-equal comparisons across CUs.
func rawResult(t *testing.T, cuURL, pid, id string) (int, []byte) {
	t.Helper()
	res, err := http.Get(fmt.Sprintf("%s/result/%s?process-id=%s", cuURL, id, pid))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// A CU-only node computes a process another node's SU schedules: it reads the schedule from that SU over
// HTTP (found through its Scheduler-Location record), verifies it, and follows it as it grows; an MU-only
// node takes clients' messages for it. Nothing the followers hold is scheduled, uploaded or cranked by them.
func TestUnitsOnSeparateNodes(t *testing.T) {
	nodes := startMesh(t, 3, func(i int, c *config.Config) {
		switch i {
		case 1: // CU only
			c.SU.Listen, c.MU.Listen = "", ""
		case 2: // MU only
			c.SU.Listen, c.CU.Listen = "", ""
		}
	})
	su, cu, mu := nodes[0], nodes[1], nodes[2]
	ctx := context.Background()

	p, status, out := su.post("", "", tg("Name", "kv"))
	if status != http.StatusAccepted {
		t.Fatalf("spawn: %d %v", status, out)
	}
	su.eval(p.ID, kvCode)
	set, _, _ := su.post("1", p.ID, tg("Action", "Set"), tg("Key", "a"))
	want := su.result(p.ID, set.ID)
	if got := messages(want); len(got) != 1 || got[0]["Data"] != "set a" {
		t.Fatalf("Set on the SU node: %v", want)
	}

	// The CU-only node has never seen the process: it locates its SU through the gateway (once the spawn
	// is indexed there) and reads the whole schedule from it.
	var body []byte
	nodetest.Eventually(t, "the CU-only node answers for the process", func() bool {
		status, body = rawResult(t, cu.url("cu"), p.ID, set.ID)
		return status == http.StatusOK
	})
	_, ownBody := rawResult(t, su.url("cu"), p.ID, set.ID)
	if !bytes.Equal(body, ownBody) {
		t.Fatalf("results differ:\nSU node's CU %s\nCU-only node %s", ownBody, body)
	}
	held, err := cu.DB.GetProcess(ctx, p.ID)
	if err != nil || held.Scheduler != su.info.Scheduler {
		t.Fatalf("the CU-only node holds %+v, %v; want the process with scheduler %s", held, err, su.info.Scheduler)
	}

	// Messages sent after that, through the MU-only node, are read on demand: a result at once, a dry-run
	// sees the newest state.
	mu.info.Scheduler, mu.info.Module = su.info.Scheduler, su.info.Module
	set2, status, out := mu.post("2", p.ID, tg("Action", "Set"), tg("Key", "b"))
	if status != http.StatusAccepted {
		t.Fatalf("message through the MU-only node: %d %v", status, out)
	}
	if r := messages(cu.result(p.ID, set2.ID)); len(r) != 1 || r[0]["Data"] != "set b" {
		t.Fatalf("the CU-only node's result of a message sent after it followed the process: %v", r)
	}
	set3, _, _ := su.post("3", p.ID, tg("Action", "Set"), tg("Key", "c"))
	if r := messages(cu.dryrun(p.ID, tg("Action", "Get"), tg("Key", "c"))); len(r) != 1 || r[0]["Data"] != "3" {
		t.Fatalf("dry-run on the CU-only node does not see the newest message: %v", r)
	}
	for _, id := range []string{set2.ID, set3.ID} {
		_, a := rawResult(t, su.url("cu"), p.ID, id)
		_, b := rawResult(t, cu.url("cu"), p.ID, id)
		if !bytes.Equal(a, b) {
			t.Fatalf("result of %s differs:\n%s\n%s", id, a, b)
		}
	}

	// The copy is the SU's schedule entry for entry, and the follower never queued uploads or cranks.
	mine, _ := su.DB.Entries(ctx, p.ID, 0, -1, 0)
	theirs, _ := cu.DB.Entries(ctx, p.ID, 0, -1, 0)
	if len(mine) != len(theirs) {
		t.Fatalf("the CU-only node holds %d entries, the SU %d", len(theirs), len(mine))
	}
	for i := range mine {
		if mine[i].AssignmentID != theirs[i].AssignmentID || mine[i].HashChain != theirs[i].HashChain {
			t.Fatalf("entry %d differs: %+v vs %+v", i, mine[i], theirs[i])
		}
	}
	for _, node := range []*testNode{cu, mu} {
		ups, _ := node.DB.ListUploads(ctx, "", 0, 1000)
		for _, u := range ups {
			for _, e := range mine {
				if u.ItemID == e.AssignmentID || u.ItemID == e.MessageID {
					t.Fatalf("a follower queued %s for upload", u.ItemID)
				}
			}
		}
		if tasks, _ := node.DB.Tasks(ctx, 0, 100); len(tasks) != 0 {
			t.Fatalf("a follower queued crank tasks: %+v", tasks)
		}
	}

	// An SU that is off publishes no Scheduler-Location record: nobody can name it a scheduler.
	locs, _, err := cu.Gateway.Transactions(ctx, gateway.TxQuery{
		Owners: []string{cu.info.Scheduler, mu.Wallet.Address()},
		Tags:   []gateway.TagFilter{{Name: "Type", Values: []string{"Scheduler-Location"}}},
	})
	if err != nil || len(locs) != 0 {
		t.Fatalf("nodes without an SU published Scheduler-Location records: %v %v", locs, err)
	}
	spawn, status, out := mu.post("", "", tg("Name", "elsewhere"))
	if status != http.StatusAccepted {
		t.Fatalf("a spawn through the MU-only node naming the SU node: %d %v", status, out)
	}
	if _, err := su.DB.GetProcess(ctx, spawn.ID); err != nil {
		t.Fatalf("the spawn posted to the MU-only node is not scheduled by the SU node: %v", err)
	}
	if _, err := mu.DB.GetProcess(ctx, spawn.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the MU-only node scheduled a process itself: %v", err)
	}
}
