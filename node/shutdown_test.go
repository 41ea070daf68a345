package node

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// Close lets requests already in flight finish (a slow dry-run here) before the node stops.
func TestCloseDrainsInFlightRequests(t *testing.T) {
	n := startNode(t, t.TempDir())
	p, _, _ := n.post("", "")
	ev, _, _ := n.post(`Handlers.add("slow", Handlers.utils.hasMatchingTag("Action", "Slow"), function (msg)
  local x = 0
  for i = 1, 3000000 do x = x + i end
  msg.reply({ Data = tostring(x) })
end)`, p.ID, tg("Action", "Eval"))
	if r := n.result(p.ID, ev.ID); r["Error"] != nil {
		t.Fatalf("eval: %v", r["Error"])
	}
	body, _ := json.Marshal(map[string]any{"Owner": "reader", "Tags": []map[string]string{{"name": "Action", "value": "Slow"}}})
	type answer struct {
		status int
		data   string
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := http.Post(n.url("cu")+"/dry-run?process-id="+p.ID, "application/json", bytes.NewReader(body))
		if err != nil {
			done <- answer{err: err}
			return
		}
		defer res.Body.Close()
		var out struct{ Messages []struct{ Data string } }
		err = json.NewDecoder(res.Body).Decode(&out)
		a := answer{status: res.StatusCode, err: err}
		if len(out.Messages) > 0 {
			a.data = out.Messages[0].Data
		}
		done <- a
	}()
	time.Sleep(50 * time.Millisecond) // the dry-run is running
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-done:
		if a.err != nil || a.status != http.StatusOK || a.data != "4500001500000" {
			t.Fatalf("in-flight dry-run: %d %q %v", a.status, a.data, a.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the in-flight request never finished")
	}
	if _, err := http.Get(n.url("cu") + "/healthz"); err == nil {
		t.Fatal("the node still answers after Close")
	}
}
