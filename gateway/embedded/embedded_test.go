package embedded_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aonode/aonode/gateway"
	"github.com/aonode/aonode/gateway/embedded"
	"github.com/everFinance/goar"
	"github.com/everFinance/goar/types"
	"github.com/everFinance/goar/utils"
)

func TestRestartKeepsEverything(t *testing.T) {
	sa, _ := signers(t)
	e := newEnv(t, embedded.Options{})
	ctx := context.Background()

	its := []types.BundleItem{
		mkItem(t, sa, []byte("one"), "", "", aoTags("Message", tag("Run", "restart"), tag("Content-Type", "text/plain"))...),
		mkItem(t, sa, []byte("two"), utils.Base64Encode(randBytes(32)), utils.Base64Encode(randBytes(32)), aoTags("Message", tag("Run", "restart"))...),
	}
	btx := e.postBundle(1, bundle(t, its...), tag("App-Name", "restart-test"))
	single := mkItem(t, sa, []byte("single"), "", "", aoTags("Message", tag("Run", "restart"))...)
	id, err := e.g.PostItem(ctx, single.ItemBinary)
	must(t, err)
	if id != single.Id {
		t.Fatalf("PostItem id = %s, want %s", id, single.Id)
	}

	before := all(t, e.c, gateway.TxQuery{Tags: []gateway.TagFilter{{Name: "Run", Values: []string{"restart"}}}, Sort: gateway.SortHeightAsc})
	infoBefore, err := e.c.Info(ctx)
	must(t, err)

	e.restart()

	after := all(t, e.c, gateway.TxQuery{Tags: []gateway.TagFilter{{Name: "Run", Values: []string{"restart"}}}, Sort: gateway.SortHeightAsc})
	if !reflect.DeepEqual(before, after) {
		t.Errorf("GraphQL differs after restart:\n%+v\n%+v", before, after)
	}
	if len(after) != 3 {
		t.Fatalf("%d items after restart, want 3", len(after))
	}
	infoAfter, err := e.c.Info(ctx)
	must(t, err)
	if infoAfter != infoBefore {
		t.Errorf("info %+v after restart, want %+v", infoAfter, infoBefore)
	}
	for _, it := range append(its, single) {
		data, _, err := e.c.Data(ctx, it.Id)
		must(t, err)
		want, _ := utils.Base64Decode(it.Data)
		if !bytes.Equal(data, want) {
			t.Errorf("data of %s differs after restart", it.Id)
		}
	}
	bdata, _, err := e.c.Data(ctx, btx.ID)
	must(t, err)
	if !bytes.Equal(bdata, bundle(t, its...).BundleBinary) {
		t.Error("bundle data differs after restart")
	}
	tx, err := e.c.Tx(ctx, its[1].Id)
	must(t, err)
	if tx.Anchor != its[1].Anchor || tx.Recipient != its[1].Target || tx.BundledIn != btx.ID {
		t.Errorf("item after restart = %+v", tx)
	}

	// acceptance order continues after the restart
	later := mkItem(t, sa, []byte("later"), "", "", aoTags("Message", tag("Run", "restart"))...)
	_, err = e.g.PostItem(ctx, later.ItemBinary)
	must(t, err)
	got := ids(all(t, e.c, gateway.TxQuery{Tags: []gateway.TagFilter{{Name: "Run", Values: []string{"restart"}}}, Sort: gateway.SortHeightAsc}))
	want := append(itemIDs(its...), single.Id, later.Id)
	if !slices.Equal(got, want) {
		t.Errorf("order after restart = %v, want %v", got, want)
	}
	// a second Open of the same file fails instead of corrupting it (bbolt file lock)
	if _, err := embedded.Open(e.path, embedded.Options{}); err == nil {
		t.Error("second Open of a locked file succeeded")
	}
}

func TestTamperedBundleItemIsSkipped(t *testing.T) {
	sa, _ := signers(t)
	e := newEnv(t, embedded.Options{})
	ctx := context.Background()
	run := tag("Run", "tamper")
	good1 := mkItem(t, sa, []byte("good 1"), "", "", aoTags("Message", run)...)
	bad := mkItem(t, sa, []byte("will be changed"), "", "", aoTags("Message", run)...)
	good2 := mkItem(t, sa, []byte("good 2"), "", "", aoTags("Message", run)...)
	bad.ItemBinary = bytes.Clone(bad.ItemBinary)
	bad.ItemBinary[len(bad.ItemBinary)-1] ^= 0x01 // flip one payload bit; the id (hash of the signature) stays

	e.postBundle(1, bundle(t, good1, bad, good2))

	got := ids(all(t, e.c, gateway.TxQuery{Tags: []gateway.TagFilter{{Name: "Run", Values: []string{"tamper"}}}, Sort: gateway.SortHeightAsc}))
	if want := itemIDs(good1, good2); !slices.Equal(got, want) {
		t.Errorf("indexed %v, want only the valid items %v", got, want)
	}
	if _, err := e.c.Tx(ctx, bad.Id); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("tampered item: Tx err = %v, want ErrNotFound", err)
	}
	if _, _, err := e.c.Data(ctx, bad.Id); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("tampered item: Data err = %v, want ErrNotFound", err)
	}
	// the same tampered item posted on its own is rejected with 400
	r := e.do(http.MethodPost, "/tx", "application/octet-stream", bad.ItemBinary)
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `"error"`) {
		t.Errorf("POST tampered item = %d %s", r.status, r.body)
	}
}

func TestLargeBundleConcurrentChunks(t *testing.T) {
	sa, _ := signers(t)
	cases := []struct {
		name  string
		sizes []int
		fill  func(n int) []byte
	}{
		{"random payloads", []int{500 << 10, 700 << 10, 10, 300 << 10}, randBytes},
		// repeated 256 KiB chunks: arlocal deduplicates chunks by content and corrupts this
		{"repetitive payload", []int{1500000}, func(n int) []byte { return bytes.Repeat([]byte{'x'}, n) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, embedded.Options{NoSync: true})
			ctx := context.Background()
			var its []types.BundleItem
			var payloads [][]byte
			for i, n := range tc.sizes {
				p := tc.fill(n)
				payloads = append(payloads, p)
				its = append(its, mkItem(t, sa, p, "", "", aoTags("Message", tag("Nonce", strconv.Itoa(i)), tag("Content-Type", "application/x-test"))...))
			}
			b := bundle(t, its...)
			if len(b.BundleBinary) <= 1<<20 {
				t.Fatalf("bundle is %d bytes, want > 1 MiB", len(b.BundleBinary))
			}
			btx := e.postBundle(20, b)
			for i, it := range its {
				data, ct, err := e.c.Data(ctx, it.Id)
				must(t, err)
				if !bytes.Equal(data, payloads[i]) {
					t.Errorf("item %d: %d bytes back, differ from the %d posted", i, len(data), len(payloads[i]))
				}
				if ct != "application/x-test" {
					t.Errorf("item %d content type %q", i, ct)
				}
			}
			data, ct, err := e.c.Data(ctx, btx.ID)
			must(t, err)
			if !bytes.Equal(data, b.BundleBinary) || ct != "application/octet-stream" {
				t.Errorf("bundle: %d bytes (%s), want the %d posted", len(data), ct, len(b.BundleBinary))
			}

			// Arweave-node style reads: /tx/{id}/data is base64url, /tx/{id}/offset + /chunk/{offset} walk the chunks
			r := e.get("/tx/" + btx.ID + "/data")
			if dec, err := utils.Base64Decode(string(r.body)); r.status != 200 || err != nil || !bytes.Equal(dec, b.BundleBinary) {
				t.Errorf("/tx/{id}/data: %d, decoded equal=%v", r.status, bytes.Equal(dec, b.BundleBinary))
			}
			var off struct{ Offset, Size string }
			e.get("/tx/"+btx.ID+"/offset").json(t, &off)
			end, _ := strconv.ParseInt(off.Offset, 10, 64)
			size, _ := strconv.ParseInt(off.Size, 10, 64)
			if size != int64(len(b.BundleBinary)) {
				t.Fatalf("offset answer %+v", off)
			}
			root, _ := utils.Base64Decode(btx.DataRoot)
			var got []byte
			for start := end - size + 1; start <= end; {
				var ch struct {
					Chunk    string
					DataPath string `json:"data_path"`
				}
				rc := e.get("/chunk/" + strconv.FormatInt(start, 10))
				if rc.status != 200 {
					t.Fatalf("/chunk/%d: %d %s", start, rc.status, rc.body)
				}
				rc.json(t, &ch)
				cb, _ := utils.Base64Decode(ch.Chunk)
				path, _ := utils.Base64Decode(ch.DataPath)
				rel := int(start - (end - size + 1))
				if _, ok := utils.ValidatePath(root, rel, 0, int(size), path); !ok {
					t.Errorf("/chunk/%d: data_path does not validate", start)
				}
				got = append(got, cb...)
				start += int64(len(cb))
			}
			if !bytes.Equal(got, b.BundleBinary) {
				t.Error("chunks read back differ from the bundle")
			}
			// goar reads it back too
			gtx, err := e.w.Client.GetTransactionByID(btx.ID)
			must(t, err)
			if gtx.DataRoot != btx.DataRoot || gtx.DataSize != btx.DataSize {
				t.Errorf("goar GetTransactionByID = %+v", gtx)
			}
			must(t, utils.VerifyTransaction(*gtx))
		})
	}
}

func TestOctetStreamItemPost(t *testing.T) {
	sa, _ := signers(t)
	e := newEnv(t, embedded.Options{})
	ctx := context.Background()
	for _, path := range []string{"/tx/arweave", "/tx", "/v1/tx", "/tx/ar"} {
		t.Run(path, func(t *testing.T) {
			it := mkItem(t, sa, []byte("hello from "+path), "", "", aoTags("Message", tag("Path", path), tag("Content-Type", "text/plain"))...)
			r := e.do(http.MethodPost, path, "application/octet-stream", it.ItemBinary)
			if r.status != http.StatusOK {
				t.Fatalf("POST %s = %d %s", path, r.status, r.body)
			}
			var ans struct {
				ID        string
				Timestamp int64
			}
			r.json(t, &ans)
			if ans.ID != it.Id || ans.Timestamp <= 0 {
				t.Errorf("answer %s", r.body)
			}
			// idempotent
			r2 := e.do(http.MethodPost, path, "application/octet-stream", it.ItemBinary)
			var ans2 struct {
				ID        string
				Timestamp int64
			}
			r2.json(t, &ans2)
			if r2.status != 200 || ans2 != ans {
				t.Errorf("re-POST = %d %s, want %s", r2.status, r2.body, r.body)
			}
			tx, err := e.c.Tx(ctx, it.Id)
			must(t, err)
			if tx.Block == nil || tx.BundledIn != "" || tx.Owner.Address != sa.Address || tx.DataSize != int64(len("hello from "+path)) {
				t.Errorf("item = %+v", tx)
			}
			data, ct, err := e.c.Data(ctx, it.Id)
			must(t, err)
			if string(data) != "hello from "+path || ct != "text/plain" {
				t.Errorf("data %q %q", data, ct)
			}
			if r := e.get("/tx/" + it.Id); r.status != http.StatusNotFound {
				t.Errorf("/tx/{item} = %d, want 404 (items are not L1 transactions)", r.status)
			}
		})
	}
	bad := []struct {
		name string
		body []byte
	}{
		{"empty", nil},
		{"garbage", []byte("this is not a data item")},
		{"truncated", mkItem(t, sa, []byte("x"), "", "", aoTags("Message")...).ItemBinary[:600]},
		{"unknown signature type", append([]byte{9, 0}, randBytes(2000)...)},
	}
	for _, tc := range bad {
		t.Run("bad "+tc.name, func(t *testing.T) {
			r := e.do(http.MethodPost, "/tx/arweave", "application/octet-stream", tc.body)
			var ans struct{ Error string }
			r.json(t, &ans)
			if r.status != http.StatusBadRequest || ans.Error == "" {
				t.Errorf("= %d %s, want 400 with an error", r.status, r.body)
			}
			if _, err := e.g.PostItem(ctx, tc.body); err == nil {
				t.Error("PostItem accepted it")
			}
		})
	}
}

// The exact queries aoconnect 0.0.98 and scheduler-utils send (wire-contract.md §1.3 and §2), verbatim.
const (
	aoconnectModuleQuery = `
    query GetTransactions ($transactionIds: [ID!]!) {
      transactions(ids: $transactionIds) {
        edges {
          node {
            owner {
              address
            }
            tags {
              name
              value
            }
            block {
              id
              height
              timestamp
            }
          }
        }
      }
    }`
	schedulerUtilsProcessQuery = `
    query GetTransactions ($transactionIds: [ID!]!) {
      transactions(
        ids: $transactionIds
        tags: [
          { name: "Data-Protocol", values: ["ao"] }
        ]
      ) {
        edges {
          node {
            tags {
              name
              value
            }
          }
        }
      }
    }`
	schedulerLocationQuery = `
    query GetSchedulerLocation ($owner: String!) {
      transactions (
        owners: [$owner]
        tags: [
          { name: "Data-Protocol", values: ["ao"] },
          { name: "Type", values: ["Scheduler-Location"] }
        ]
        # Only need the most recent Scheduler-Location
        sort: HEIGHT_DESC
        first: 1
      ) {
        edges {
          node {
            tags {
              name
              value
            }
          }
        }
      }
    }`
	// the current MU's bulk Scheduler-Location download (wire-contract.md §3.6)
	muSchedulerLocationsQuery = `query GetSchedulerLocations($cursor: String) { transactions(tags:[{name:"Type",values:["Scheduler-Location"]} {name:"Data-Protocol",values:["ao"]}], first:100, after:$cursor) { edges { node { id owner{address} tags{name value} block{id height timestamp} } cursor } pageInfo{hasNextPage} } }`
)

type gqlTags struct {
	Data struct {
		Transactions struct {
			PageInfo struct{ HasNextPage bool }
			Edges    []struct {
				Cursor string
				Node   struct {
					ID    string
					Owner struct{ Address string }
					Tags  []struct{ Name, Value string }
					Block *struct {
						ID        string
						Height    int64
						Timestamp int64
					}
				}
			}
		}
	}
	Errors []struct{ Message string }
}

func tagValue(tags []struct{ Name, Value string }, name string) string {
	for _, t := range tags {
		if t.Name == name {
			return t.Value
		}
	}
	return ""
}

func TestAOQueriesVerbatim(t *testing.T) {
	sa, sb := signers(t)
	e := newEnv(t, embedded.Options{})
	ctx := context.Background()

	module := mkItem(t, sa, []byte("-- lua module"), "", "", aoTags("Module",
		tag("Module-Format", "aos-lua"), tag("Input-Encoding", "JSON-1"), tag("Output-Encoding", "JSON-1"),
		tag("Memory-Limit", "1-gb"), tag("Compute-Limit", "9000000000000"), tag("Content-Type", "text/x-lua"))...)
	process := mkItem(t, sa, []byte(" "), "", "", aoTags("Process", tag("Module", module.Id), tag("Scheduler", sb.Address), tag("SDK", "aoconnect"))...)
	slOld := mkItem(t, sb, []byte(" "), "", "", aoTags("Scheduler-Location", tag("Url", "http://old.example"), tag("Time-To-Live", "1000"))...)
	slNew := mkItem(t, sb, []byte(" "), "", "", aoTags("Scheduler-Location", tag("Url", "http://new.example"), tag("Time-To-Live", "3600000"))...)
	slOther := mkItem(t, sa, []byte(" "), "", "", aoTags("Scheduler-Location", tag("Url", "http://someone-else.example"), tag("Time-To-Live", "5"))...)
	nonAO := mkItem(t, sa, []byte(" "), "", "", tag("Type", "Process"))

	e.postBundle(1, bundle(t, module, process, nonAO))
	for _, it := range []types.BundleItem{slOld, slNew, slOther} {
		_, err := e.g.PostItem(ctx, it.ItemBinary)
		must(t, err)
	}

	t.Run("aoconnect module check", func(t *testing.T) {
		var res gqlTags
		r := e.gql(aoconnectModuleQuery, map[string]any{"transactionIds": []string{module.Id}}, &res)
		if r.status != 200 || len(res.Errors) > 0 || len(res.Data.Transactions.Edges) != 1 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		n := res.Data.Transactions.Edges[0].Node
		if n.Owner.Address != sa.Address || tagValue(n.Tags, "Type") != "Module" || tagValue(n.Tags, "Module-Format") != "aos-lua" ||
			n.Block == nil || n.Block.ID == "" || n.Block.Height < 1 || n.Block.Timestamp == 0 {
			t.Errorf("module node = %+v", n)
		}
		// an unknown module gives empty edges (aoconnect then fails with its own message)
		var none gqlTags
		e.gql(aoconnectModuleQuery, map[string]any{"transactionIds": []string{utils.Base64Encode(randBytes(32))}}, &none)
		if len(none.Data.Transactions.Edges) != 0 || len(none.Errors) != 0 {
			t.Errorf("unknown module = %+v", none)
		}
	})

	t.Run("scheduler-utils process lookup", func(t *testing.T) {
		var res gqlTags
		r := e.gql(schedulerUtilsProcessQuery, map[string]any{"transactionIds": []string{process.Id}}, &res)
		if r.status != 200 || len(res.Data.Transactions.Edges) != 1 || tagValue(res.Data.Transactions.Edges[0].Node.Tags, "Scheduler") != sb.Address {
			t.Fatalf("%d %s", r.status, r.body)
		}
		// an item without Data-Protocol=ao is not returned
		var none gqlTags
		e.gql(schedulerUtilsProcessQuery, map[string]any{"transactionIds": []string{nonAO.Id}}, &none)
		if len(none.Data.Transactions.Edges) != 0 {
			t.Errorf("non-ao item returned: %+v", none)
		}
	})

	t.Run("scheduler-utils GetSchedulerLocation", func(t *testing.T) {
		var res gqlTags
		r := e.gql(schedulerLocationQuery, map[string]any{"owner": sb.Address}, &res)
		if r.status != 200 || len(res.Data.Transactions.Edges) != 1 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		tags := res.Data.Transactions.Edges[0].Node.Tags
		if tagValue(tags, "Url") != "http://new.example" || tagValue(tags, "Time-To-Live") != "3600000" {
			t.Errorf("most recent Scheduler-Location = %+v, want the new one", tags)
		}
		// the owner filter also accepts the public key (as arweave.net does)
		var byKey gqlTags
		e.gql(schedulerLocationQuery, map[string]any{"owner": sb.Owner()}, &byKey)
		if len(byKey.Data.Transactions.Edges) != 1 || tagValue(byKey.Data.Transactions.Edges[0].Node.Tags, "Url") != "http://new.example" {
			t.Errorf("by public key: %+v", byKey)
		}
		// a wallet without a record
		var none gqlTags
		e.gql(schedulerLocationQuery, map[string]any{"owner": utils.Base64Encode(randBytes(32))}, &none)
		if len(none.Data.Transactions.Edges) != 0 {
			t.Errorf("unknown owner: %+v", none)
		}
	})

	t.Run("Scheduler-Location records in one bundle", func(t *testing.T) {
		// within one block HEIGHT_DESC is the reverse of acceptance order, so the last record wins
		x1 := mkItem(t, sa, []byte(" "), "", "", aoTags("Scheduler-Location", tag("Url", "http://a1.example"), tag("Time-To-Live", "1"))...)
		x2 := mkItem(t, sa, []byte(" "), "", "", aoTags("Scheduler-Location", tag("Url", "http://a2.example"), tag("Time-To-Live", "2"))...)
		e.postBundle(1, bundle(t, x1, x2))
		var res gqlTags
		e.gql(schedulerLocationQuery, map[string]any{"owner": sa.Address}, &res)
		if len(res.Data.Transactions.Edges) != 1 || tagValue(res.Data.Transactions.Edges[0].Node.Tags, "Url") != "http://a2.example" {
			t.Errorf("got %+v, want a2", res.Data.Transactions.Edges)
		}
	})

	t.Run("MU GetSchedulerLocations paging", func(t *testing.T) {
		var cursor any
		seen := map[string]bool{}
		for page := 0; page < 5; page++ {
			var res gqlTags
			r := e.gql(muSchedulerLocationsQuery, map[string]any{"cursor": cursor}, &res)
			if r.status != 200 || len(res.Errors) > 0 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			for _, ed := range res.Data.Transactions.Edges {
				seen[ed.Node.ID] = true
			}
			if !res.Data.Transactions.PageInfo.HasNextPage {
				break
			}
			cursor = res.Data.Transactions.Edges[len(res.Data.Transactions.Edges)-1].Cursor
		}
		if len(seen) != 5 {
			t.Errorf("found %d Scheduler-Location records, want 5", len(seen))
		}
	})
}

func TestManualMiningAndL1Endpoints(t *testing.T) {
	sa, sb := signers(t)
	e := newEnv(t, embedded.Options{ManualMine: true})
	ctx := context.Background()

	var info map[string]any
	r := e.get("/info")
	r.json(t, &info)
	for _, k := range []string{"network", "version", "release", "height", "current", "blocks", "peers", "queue_length", "node_state_latency"} {
		if _, ok := info[k]; !ok {
			t.Errorf("/info lacks %q: %s", k, r.body)
		}
	}
	if info["network"] != "aonode.embedded" || info["height"].(float64) != 0 || info["blocks"].(float64) != 1 {
		t.Errorf("/info = %s", r.body)
	}
	if root := e.get("/"); string(root.body) != string(r.body) {
		t.Errorf("GET / = %s, want /info", root.body)
	}
	anchor, err := e.w.Client.GetTransactionAnchor()
	must(t, err)
	if b, err := utils.Base64Decode(anchor); err != nil || len(b) != 48 || anchor != info["current"] {
		t.Errorf("tx_anchor %q", anchor)
	}
	for _, n := range []int{0, 1, 1 << 20} {
		if p, err := e.w.Client.GetTransactionPrice(n, nil); err != nil || p <= 0 {
			t.Errorf("price(%d) = %d, %v", n, p, err)
		}
	}
	target := sa.Address
	if p, err := e.w.Client.GetTransactionPrice(0, &target); err != nil || p <= 0 {
		t.Errorf("price with target = %d %v", p, err)
	}
	if bal, err := e.w.Client.GetWalletBalance(sb.Address); err != nil || bal.Sign() <= 0 {
		t.Errorf("balance %v %v", bal, err)
	}
	if r := e.get("/mint/" + sb.Address + "/1000"); r.status != 200 {
		t.Errorf("mint = %d", r.status)
	}

	it := mkItem(t, sa, []byte("pending item"), "", "", aoTags("Message", tag("Run", "manual"))...)
	btx := e.postBundle(20, bundle(t, it), tag("Run", "manual"))

	// pending: 202 on /tx/{id} and /status, block null in GraphQL (both the bundle and its item)
	if r := e.get("/tx/" + btx.ID); r.status != http.StatusAccepted || string(r.body) != "Pending" {
		t.Errorf("/tx pending = %d %s", r.status, r.body)
	}
	if _, err := e.w.Client.GetTransactionStatus(btx.ID); !errors.Is(err, goar.ErrPendingTx) {
		t.Errorf("goar status of a pending tx: %v", err)
	}
	pend := all(t, e.c, gateway.TxQuery{Tags: []gateway.TagFilter{{Name: "Run", Values: []string{"manual"}}}})
	if len(pend) != 2 {
		t.Fatalf("%d pending entries, want bundle + item", len(pend))
	}
	for _, tx := range pend {
		if tx.Block != nil {
			t.Errorf("%s has block %+v before mining", tx.ID, tx.Block)
		}
	}
	// pending rows do not match a block range
	if got := all(t, e.c, gateway.TxQuery{Tags: []gateway.TagFilter{{Name: "Run", Values: []string{"manual"}}}}); len(got) != 2 {
		t.Error("pending rows vanished")
	}
	var blk gqlTags
	e.gql(`{ transactions(tags: [{name: "Run", values: ["manual"]}], block: {min: 0}) { edges { node { id } } } }`, nil, &blk)
	if len(blk.Data.Transactions.Edges) != 0 {
		t.Errorf("block filter matched pending rows")
	}
	// the data is there before mining
	if data, _, err := e.c.Data(ctx, it.Id); err != nil || string(data) != "pending item" {
		t.Errorf("data before mining: %q %v", data, err)
	}

	r = e.get("/mine")
	r.json(t, &info)
	if r.status != 200 || info["height"].(float64) != 1 {
		t.Fatalf("/mine = %d %s", r.status, r.body)
	}
	st, err := e.w.Client.GetTransactionStatus(btx.ID)
	must(t, err)
	if st.BlockHeight != 1 || st.NumberOfConfirmations != 1 || st.BlockIndepHash != info["current"] {
		t.Errorf("status = %+v", st)
	}
	mined := all(t, e.c, gateway.TxQuery{Tags: []gateway.TagFilter{{Name: "Run", Values: []string{"manual"}}}})
	for _, tx := range mined {
		if tx.Block == nil || tx.Block.Height != 1 || tx.Block.ID != info["current"] {
			t.Errorf("%s block after mining = %+v", tx.ID, tx.Block)
		}
	}
	if r := e.get("/mine/3"); r.status != 200 {
		t.Fatalf("/mine/3 = %d", r.status)
	}
	st, err = e.w.Client.GetTransactionStatus(btx.ID)
	must(t, err)
	if st.NumberOfConfirmations != 4 {
		t.Errorf("confirmations after 3 more blocks = %d", st.NumberOfConfirmations)
	}

	// GET /tx/{id}: the L1 header, which still verifies
	gtx, err := e.w.Client.GetTransactionByID(btx.ID)
	must(t, err)
	must(t, utils.VerifyTransaction(*gtx))
	tags, err := utils.TagsDecode(gtx.Tags)
	must(t, err)
	if gtx.Owner != sb.Owner() || len(tags) != 3 || tags[0].Name != "Bundle-Format" || tags[2].Value != "manual" {
		t.Errorf("tx = %+v tags %+v", gtx, tags)
	}
	if _, err := e.w.Client.GetTransactionByID(it.Id); !errors.Is(err, goar.ErrNotFound) {
		t.Errorf("item via /tx: %v", err)
	}
	if r := e.get("/tx/" + it.Id + "/status"); r.status != 404 {
		t.Errorf("item status = %d", r.status)
	}
	if last := e.get("/wallet/" + sb.Address + "/last_tx"); string(last.body) != btx.ID {
		t.Errorf("last_tx = %s", last.body)
	}

	// blocks
	var blocks struct {
		Data struct {
			Blocks struct {
				PageInfo struct{ HasNextPage bool }
				Edges    []struct {
					Cursor string
					Node   struct {
						ID, Previous string
						Height       int
					}
				}
			}
			Block struct{ ID string }
		}
	}
	e.gql(`query($a: String) { blocks(first: 2, sort: HEIGHT_ASC, after: $a) { pageInfo { hasNextPage } edges { cursor node { id height previous } } } block { id } }`, map[string]any{"a": nil}, &blocks)
	bs := blocks.Data.Blocks.Edges
	if len(bs) != 2 || bs[0].Node.Height != 0 || bs[1].Node.Height != 1 || bs[1].Node.Previous != bs[0].Node.ID || !blocks.Data.Blocks.PageInfo.HasNextPage {
		t.Errorf("blocks = %+v", blocks.Data.Blocks)
	}
	e.gql(`query($a: String) { blocks(first: 10, sort: HEIGHT_ASC, after: $a) { pageInfo { hasNextPage } edges { cursor node { id height previous } } } block { id } }`, map[string]any{"a": bs[1].Cursor}, &blocks)
	if bs := blocks.Data.Blocks.Edges; len(bs) != 3 || bs[0].Node.Height != 2 || blocks.Data.Blocks.PageInfo.HasNextPage || blocks.Data.Block.ID != bs[2].Node.ID {
		t.Errorf("blocks page 2 = %+v", blocks.Data)
	}
	if r := e.get("/block/height/1"); r.status != 200 || !strings.Contains(string(r.body), btx.ID) {
		t.Errorf("/block/height/1 = %d %s", r.status, r.body)
	}
}

func TestDataEndpoints(t *testing.T) {
	sa, _ := signers(t)
	e := newEnv(t, embedded.Options{})
	it := mkItem(t, sa, []byte("0123456789"), "", "", aoTags("Message", tag("Content-Type", "text/plain; charset=utf-8"))...)
	noType := mkItem(t, sa, []byte{0, 1, 2}, "", "", aoTags("Message")...)
	e.postBundle(1, bundle(t, it, noType))
	cases := []struct {
		method, path, rangeHdr string
		status                 int
		body, ctype            string
	}{
		{"GET", "/" + it.Id, "", 200, "0123456789", "text/plain; charset=utf-8"},
		{"GET", "/raw/" + it.Id, "", 200, "0123456789", "text/plain; charset=utf-8"},
		{"HEAD", "/" + it.Id, "", 200, "", "text/plain; charset=utf-8"},
		{"GET", "/" + it.Id, "bytes=2-4", 206, "234", "text/plain; charset=utf-8"},
		{"GET", "/" + noType.Id, "", 200, "\x00\x01\x02", "application/octet-stream"},
		{"GET", "/" + utils.Base64Encode(randBytes(32)), "", 404, `{"error":"not found"}`, "application/json; charset=utf-8"},
		{"HEAD", "/" + utils.Base64Encode(randBytes(32)), "", 404, "", "application/json; charset=utf-8"},
		{"GET", "/not-an-id", "", 404, `{"error":"not found"}`, "application/json; charset=utf-8"},
		{"GET", "/tx/" + utils.Base64Encode(randBytes(32)), "", 404, `{"error":"not found"}`, "application/json; charset=utf-8"},
		{"GET", "/a/b/c", "", 404, `{"error":"not found"}`, "application/json; charset=utf-8"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path+" "+tc.rangeHdr, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, e.url+tc.path, nil)
			if tc.rangeHdr != "" {
				req.Header.Set("Range", tc.rangeHdr)
			}
			res, err := http.DefaultClient.Do(req)
			must(t, err)
			defer res.Body.Close()
			var buf bytes.Buffer
			buf.ReadFrom(res.Body)
			if res.StatusCode != tc.status || buf.String() != tc.body || res.Header.Get("Content-Type") != tc.ctype {
				t.Errorf("= %d %q %q, want %d %q %q", res.StatusCode, buf.String(), res.Header.Get("Content-Type"), tc.status, tc.body, tc.ctype)
			}
			if tc.method == "HEAD" && tc.status == 200 && res.Header.Get("Content-Length") != "10" {
				t.Errorf("HEAD Content-Length = %q", res.Header.Get("Content-Length"))
			}
			if res.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Error("no CORS header")
			}
		})
	}
	// CORS preflight for browser aoconnect
	r := e.do(http.MethodOptions, "/graphql", "", nil)
	if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("OPTIONS /graphql = %d %v", r.status, r.header)
	}
}

func TestInlineDataTransactions(t *testing.T) {
	sa, sb := signers(t)
	e := newEnv(t, embedded.Options{})
	ctx := context.Background()
	anchor, err := e.w.Client.GetTransactionAnchor()
	must(t, err)
	// arweave-js style: the data travels inside the POST /tx JSON
	sign := func(data []byte, tags ...types.Tag) *types.Transaction {
		tx := &types.Transaction{Format: 2, Owner: sb.Owner(), LastTx: anchor, Quantity: "0", Reward: "1000",
			Tags: utils.TagsEncode(tags), Data: utils.Base64Encode(data), DataSize: strconv.Itoa(len(data))}
		must(t, sb.SignTx(tx))
		return tx
	}
	post := func(tx *types.Transaction) httpResult {
		b, _ := json.Marshal(tx)
		return e.do(http.MethodPost, "/tx", "application/json", b)
	}

	plain := sign([]byte("<html>hi</html>"), tag("Content-Type", "text/html"), tag("Unicode", "ünï ✓"))
	if r := post(plain); r.status != 200 {
		t.Fatalf("POST inline tx = %d %s", r.status, r.body)
	}
	data, ct, err := e.c.Data(ctx, plain.ID)
	must(t, err)
	if string(data) != "<html>hi</html>" || ct != "text/html" {
		t.Errorf("inline data = %q %q", data, ct)
	}
	tx, err := e.c.Tx(ctx, plain.ID)
	must(t, err)
	if tx.Anchor != anchor || tx.Owner.Address != sb.Address || tx.DataSize != 15 || tx.Tags[1].Value != "ünï ✓" {
		t.Errorf("tx = %+v", tx)
	}

	it1 := mkItem(t, sa, []byte("inline item 1"), "", "", aoTags("Message", tag("Run", "inline"))...)
	it2 := mkItem(t, sa, []byte("inline item 2"), "", "", aoTags("Message", tag("Run", "inline"))...)
	bt := sign(bundle(t, it1, it2).BundleBinary, tag("Bundle-Format", "binary"), tag("Bundle-Version", "2.0.0"))
	if r := post(bt); r.status != 200 {
		t.Fatalf("POST inline bundle = %d %s", r.status, r.body)
	}
	got := ids(all(t, e.c, gateway.TxQuery{Tags: []gateway.TagFilter{{Name: "Run", Values: []string{"inline"}}}, Sort: gateway.SortHeightAsc}))
	if !slices.Equal(got, itemIDs(it1, it2)) {
		t.Errorf("inline bundle items = %v", got)
	}
	// re-posting a known transaction is accepted (idempotent)
	if r := post(bt); r.status != 200 {
		t.Errorf("re-POST = %d %s", r.status, r.body)
	}
	// a transfer without data (goar SendWinston works because /price/0 is positive)
	ttx, err := e.w.SendWinston(bigOne(), sa.Address, []types.Tag{tag("Run", "transfer")})
	must(t, err)
	tr, err := e.c.Tx(ctx, ttx.ID)
	must(t, err)
	if tr.Recipient != sa.Address || tr.DataSize != 0 {
		t.Errorf("transfer = %+v", tr)
	}
}

func TestBadRequests(t *testing.T) {
	_, sb := signers(t)
	e := newEnv(t, embedded.Options{})
	anchor, err := e.w.Client.GetTransactionAnchor()
	must(t, err)
	good := func() *types.Transaction {
		tx := &types.Transaction{Format: 2, Owner: sb.Owner(), LastTx: anchor, Quantity: "0", Reward: "1000",
			Tags: utils.TagsEncode([]types.Tag{tag("A", "b")}), Data: utils.Base64Encode([]byte("data")), DataSize: "4"}
		must(t, sb.SignTx(tx))
		return tx
	}
	enc := func(tx *types.Transaction) []byte { b, _ := json.Marshal(tx); return b }
	tampered := good()
	tampered.Tags = utils.TagsEncode([]types.Tag{tag("A", "c")})
	wrongSize := good()
	wrongSize.DataSize = "5"
	badID := good()
	badID.ID = "x"
	badFormat := good()
	badFormat.Format = 7
	chunkFor := func(root, size string) []byte {
		b, _ := json.Marshal(types.GetChunk{DataRoot: root, DataSize: size, DataPath: utils.Base64Encode(randBytes(64)), Offset: "0", Chunk: utils.Base64Encode([]byte("xy"))})
		return b
	}
	cases := []struct {
		name, method, path, ctype string
		body                      []byte
		status                    int
		errContains               string
	}{
		{"tx not json", "POST", "/tx", "application/json", []byte("{nope"), 400, "invalid transaction JSON"},
		{"tx bad signature", "POST", "/tx", "application/json", enc(tampered), 400, "signature"},
		{"tx wrong data_size", "POST", "/tx", "application/json", enc(wrongSize), 400, "data_size"},
		{"tx bad id", "POST", "/tx", "application/json", enc(badID), 400, "invalid id"},
		{"tx bad format", "POST", "/tx", "application/json", enc(badFormat), 400, "format"},
		{"chunk unknown root", "POST", "/chunk", "application/json", chunkFor(utils.Base64Encode(randBytes(32)), "2"), 400, "invalid_proof"},
		{"chunk bad json", "POST", "/chunk", "application/json", []byte("["), 400, "invalid_json"},
		{"chunk bad root", "POST", "/chunk", "application/json", chunkFor("short", "2"), 400, "data_root"},
		{"mine bad count", "GET", "/mine/zero", "", nil, 400, "block count"},
		{"price bad bytes", "GET", "/price/-1", "", nil, 400, "byte count"},
		{"graphql no query", "POST", "/graphql", "application/json", []byte(`{}`), 400, "missing query"},
		{"graphql not json", "POST", "/graphql", "application/json", []byte(`{`), 400, "invalid GraphQL request"},
		{"graphql unknown field", "POST", "/graphql", "application/json", []byte(`{"query":"{ transactions { edges { node { bogus } } } }"}`), 400, "bogus"},
		{"graphql negative first", "POST", "/graphql", "application/json", []byte(`{"query":"{ transactions(first: -1) { edges { cursor } } }"}`), 200, "first"},
		{"graphql bad cursor", "POST", "/graphql", "application/json", []byte(`{"query":"{ transactions(after: \"zzz\") { edges { cursor } } }"}`), 200, "invalid cursor"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.ctype, tc.body)
			if r.status != tc.status || !strings.Contains(string(r.body), tc.errContains) {
				t.Errorf("= %d %s, want %d containing %q", r.status, r.body, tc.status, tc.errContains)
			}
			if !json.Valid(r.body) {
				t.Errorf("error body is not JSON: %s", r.body)
			}
		})
	}
	// a valid chunk for a data_root nobody announced
	data := randBytes(1000)
	ch, err := utils.GenerateChunks(data)
	must(t, err)
	b, _ := json.Marshal(types.GetChunk{DataRoot: utils.Base64Encode(ch.DataRoot), DataSize: "1000",
		DataPath: utils.Base64Encode(ch.Proofs[0].Proof), Offset: strconv.Itoa(ch.Proofs[0].Offest), Chunk: utils.Base64Encode(data)})
	if r := e.do("POST", "/chunk", "application/json", b); r.status != 400 || !strings.Contains(string(r.body), "data_root_not_found") {
		t.Errorf("unannounced chunk = %d %s", r.status, r.body)
	}
}

func TestNestedBundleAndFilters(t *testing.T) {
	sa, sb := signers(t)
	e := newEnv(t, embedded.Options{})
	ctx := context.Background()
	inner1 := mkItem(t, sa, []byte("inner 1"), "", "", aoTags("Assignment", tag("Run", "nested"))...)
	inner2 := mkItem(t, sa, []byte("inner 2"), "", "", aoTags("Message", tag("Run", "nested"))...)
	is, err := goar.NewItemSigner(sb)
	must(t, err)
	outer, err := is.CreateAndSignNestedItem("", "", []types.Tag{tag("Run", "nested-outer")}, inner1, inner2)
	must(t, err)
	id, err := e.g.PostItem(ctx, outer.ItemBinary)
	must(t, err)
	if id != outer.Id {
		t.Fatal("wrong id")
	}
	got := all(t, e.c, gateway.TxQuery{Tags: []gateway.TagFilter{{Name: "Run", Values: []string{"nested"}}}, Sort: gateway.SortHeightAsc})
	if !slices.Equal(ids(got), itemIDs(inner1, inner2)) {
		t.Fatalf("inner items = %v", ids(got))
	}
	for _, tx := range got {
		if tx.BundledIn != outer.Id {
			t.Errorf("%s bundledIn = %q, want the outer item", tx.ID, tx.BundledIn)
		}
	}
	if data, _, err := e.c.Data(ctx, inner2.Id); err != nil || string(data) != "inner 2" {
		t.Errorf("inner data %q %v", data, err)
	}

	// bundledIn / parent filters and block ranges
	other := mkItem(t, sa, []byte("other"), "", "", aoTags("Message", tag("Run", "nested"))...)
	btx := e.postBundle(1, bundle(t, other))
	var res gqlTags
	e.gql(`query($b: [ID!]) { transactions(bundledIn: $b, sort: HEIGHT_ASC) { edges { node { id } } } }`, map[string]any{"b": []string{outer.Id}}, &res)
	if n := len(res.Data.Transactions.Edges); n != 2 {
		t.Errorf("bundledIn outer: %d edges", n)
	}
	e.gql(`query($b: [ID!]) { transactions(parent: $b) { edges { node { id parent { id } bundledIn { id } } } } }`, map[string]any{"b": []string{btx.ID}}, &res)
	if len(res.Data.Transactions.Edges) != 1 || res.Data.Transactions.Edges[0].Node.ID != other.Id {
		t.Errorf("parent filter: %+v", res.Data.Transactions.Edges)
	}
	h, err := e.g.Height()
	must(t, err)
	var rng gqlTags
	e.gql(fmt.Sprintf(`{ transactions(tags: [{name: "Run", values: ["nested"]}], block: {min: %d, max: %d}) { edges { node { id } } } }`, h, h), nil, &rng)
	if len(rng.Data.Transactions.Edges) != 1 || rng.Data.Transactions.Edges[0].Node.ID != other.Id {
		t.Errorf("block {min:%d,max:%d} = %+v", h, h, rng.Data.Transactions.Edges)
	}
	e.gql(fmt.Sprintf(`{ transactions(tags: [{name: "Run", values: ["nested"]}], block: {max: %d}, sort: HEIGHT_ASC) { edges { node { id } } } }`, h-1), nil, &rng)
	if !slices.Equal(edgeIDs(rng), itemIDs(inner1, inner2)) {
		t.Errorf("block {max:%d} = %v", h-1, edgeIDs(rng))
	}
	// empty filter lists match nothing; owner + recipient + tag combine with AND
	e.gql(`{ transactions(ids: []) { edges { node { id } } } }`, nil, &rng)
	if len(rng.Data.Transactions.Edges) != 0 {
		t.Error("ids: [] matched")
	}
	e.gql(fmt.Sprintf(`{ transactions(owners: [%q], tags: [{name: "Run", values: ["nested"]}]) { edges { node { id } } } }`, sb.Address), nil, &rng)
	if len(rng.Data.Transactions.Edges) != 0 {
		t.Error("owner AND tag matched the wrong owner's items")
	}
}

func edgeIDs(r gqlTags) []string {
	var out []string
	for _, e := range r.Data.Transactions.Edges {
		out = append(out, e.Node.ID)
	}
	return out
}

func TestConcurrentPostsAndStableCursors(t *testing.T) {
	sa, sb := signers(t)
	e := newEnv(t, embedded.Options{NoSync: true})
	ctx := context.Background()
	const n = 24
	items := make([]types.BundleItem, n)
	for i := range items {
		s := sa
		if i%2 == 1 {
			s = sb
		}
		items[i] = mkItem(t, s, []byte(fmt.Sprintf("item %d", i)), "", "", aoTags("Message", tag("Run", "concurrent"), tag("I", strconv.Itoa(i)))...)
	}
	// first half posted concurrently over HTTP
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n/2; i++ {
		wg.Add(1)
		go func(it types.BundleItem) {
			defer wg.Done()
			r, err := http.Post(e.url+"/tx/arweave", "application/octet-stream", bytes.NewReader(it.ItemBinary))
			if err != nil {
				errs <- err
				return
			}
			r.Body.Close()
			if r.StatusCode != 200 {
				errs <- fmt.Errorf("status %d", r.StatusCode)
			}
		}(items[i])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// page ascending while the second half arrives: no duplicates, no gaps
	q := gateway.TxQuery{Tags: []gateway.TagFilter{{Name: "Run", Values: []string{"concurrent"}}}, Sort: gateway.SortHeightAsc, First: 5}
	seen := map[string]int{}
	var lastHeight int64 = -1
	next := 0
	for page := 0; page < 20; page++ {
		txs, cursor, err := e.c.Transactions(ctx, q)
		must(t, err)
		for _, tx := range txs {
			seen[tx.ID]++
			if tx.Block.Height < lastHeight {
				t.Errorf("height went down: %d after %d", tx.Block.Height, lastHeight)
			}
			lastHeight = tx.Block.Height
		}
		if next < n/2 {
			for j := 0; j < 3 && next < n/2; j++ {
				_, err := e.g.PostItem(ctx, items[n/2+next].ItemBinary)
				must(t, err)
				next++
			}
		}
		if cursor == "" {
			break
		}
		q.After = cursor
	}
	if len(seen) != n {
		t.Errorf("saw %d distinct items, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("%s seen %d times", id, k)
		}
	}
}

// The embedded gateway as an in-process library: Data and Mine without HTTP.
func TestInProcessAPI(t *testing.T) {
	sa, _ := signers(t)
	e := newEnv(t, embedded.Options{ManualMine: true})
	it := mkItem(t, sa, []byte("direct"), "", "", aoTags("Message", tag("Content-Type", "text/plain"))...)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.g.PostItem(ctx, it.ItemBinary); err == nil {
		t.Error("PostItem with a cancelled context succeeded")
	}
	_, err := e.g.PostItem(context.Background(), it.ItemBinary)
	must(t, err)
	data, ct, ok, err := e.g.Data(it.Id)
	if err != nil || !ok || string(data) != "direct" || ct != "text/plain" {
		t.Errorf("Data = %q %q %v %v", data, ct, ok, err)
	}
	if _, _, ok, _ := e.g.Data(utils.Base64Encode(randBytes(32))); ok {
		t.Error("Data of an unknown id")
	}
	tx, err := e.c.Tx(context.Background(), it.Id)
	must(t, err)
	if tx.Block != nil {
		t.Error("mined without ManualMine=false")
	}
	must(t, e.g.Mine(2))
	if h, _ := e.g.Height(); h != 2 {
		t.Errorf("height %d after Mine(2)", h)
	}
	tx, err = e.c.Tx(context.Background(), it.Id)
	must(t, err)
	if tx.Block == nil || tx.Block.Height != 1 {
		t.Errorf("block after Mine = %+v", tx.Block)
	}
}

func TestLongTagValuesAndStandaloneThenBundled(t *testing.T) {
	sa, _ := signers(t)
	e := newEnv(t, embedded.Options{})
	ctx := context.Background()
	long := strings.Repeat("ü", 1000) // 2000 bytes: indexed by hash
	it := mkItem(t, sa, []byte("x"), "", "", aoTags("Message", tag("Long", long), tag("Run", "long"))...)
	other := mkItem(t, sa, []byte("y"), "", "", aoTags("Message", tag("Long", long+"!"), tag("Run", "long"))...)
	_, err := e.g.PostItem(ctx, it.ItemBinary)
	must(t, err)
	_, err = e.g.PostItem(ctx, other.ItemBinary)
	must(t, err)
	got := ids(all(t, e.c, gateway.TxQuery{Tags: []gateway.TagFilter{{Name: "Long", Values: []string{long}}}}))
	if !slices.Equal(got, []string{it.Id}) {
		t.Errorf("long tag filter = %v", got)
	}
	before, err := e.c.Tx(ctx, it.Id)
	must(t, err)
	if before.BundledIn != "" {
		t.Fatalf("standalone item has bundledIn %q", before.BundledIn)
	}
	// the same item later travels in an L1 bundle: it keeps its block and gains bundledIn
	btx := e.postBundle(1, bundle(t, it))
	after, err := e.c.Tx(ctx, it.Id)
	must(t, err)
	if after.BundledIn != btx.ID || after.Block.Height != before.Block.Height {
		t.Errorf("after bundling: bundledIn %q height %d, want %q and %d", after.BundledIn, after.Block.Height, btx.ID, before.Block.Height)
	}
	var res gqlTags
	e.gql(`query($b: [ID!]) { transactions(bundledIn: $b) { edges { node { id } } } }`, map[string]any{"b": []string{btx.ID}}, &res)
	if !slices.Equal(edgeIDs(res), []string{it.Id}) {
		t.Errorf("bundledIn filter = %v", edgeIDs(res))
	}
	// posting the bundle's twin again in another bundle keeps the first bundle
	btx2 := e.postBundle(1, bundle(t, it, other))
	again, err := e.c.Tx(ctx, it.Id)
	must(t, err)
	if again.BundledIn != btx.ID || btx2.ID == btx.ID {
		t.Errorf("re-bundled item bundledIn = %q, want the first bundle %q", again.BundledIn, btx.ID)
	}
}

func TestBodyLimitAndSniffing(t *testing.T) {
	sa, _ := signers(t)
	e := newEnv(t, embedded.Options{MaxBodyBytes: 4096})
	big := mkItem(t, sa, randBytes(8000), "", "", aoTags("Message")...)
	if r := e.do(http.MethodPost, "/tx/arweave", "application/octet-stream", big.ItemBinary); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized item = %d %s, want 413", r.status, r.body)
	}
	// a raw item POSTed to /tx without a Content-Type is recognised as an item
	small := mkItem(t, sa, []byte("s"), "", "", aoTags("Message")...)
	if r := e.do(http.MethodPost, "/tx", "", small.ItemBinary); r.status != 200 || !strings.Contains(string(r.body), small.Id) {
		t.Errorf("untyped item POST = %d %s", r.status, r.body)
	}
}
