package node

import (
	"context"
	"net/http"

	"github.com/aonode/aonode/node/explorer"
)

// newExplorer builds the explorer on the node's services.
func (n *Node) newExplorer() (*explorer.Explorer, error) {
	return explorer.New(explorer.Options{
		SU: n.SU, CU: n.CU, Store: n.DB, Progress: n.Progress, Log: n.log.With("unit", "explorer"),
		MaxBody: n.cfg.MaxItemSize,
		Pushes: func(ctx context.Context, pid, msgID, entry string) (string, bool) {
			// The store records each outbox entry the MU delivered, for its retention (store/pushes.go).
			id, err := n.DB.Push(ctx, pid, msgID, entry)
			return id, err == nil
		},
	})
}

// explorerRouter serves the explorer's pages, with the units' liveness and readiness routes and metrics.
func (n *Node) explorerRouter(info *Info) http.Handler {
	r := n.engine("explorer")
	n.Explorer.SetInfo(explorer.Info{
		Wallet: n.Wallet.Address(), Module: info.Module, Scheduler: info.Scheduler, Runtime: n.runtimeName(),
		MU: info.MU, SU: info.SU, CU: info.CU, Gateway: info.Gateway, Cache: n.cfg.CU.Cache,
		Admin: n.cfg.Admin.Listen, Explorer: info.Explorer,
	})
	n.Explorer.Routes(r)
	return r
}

func (n *Node) runtimeName() string {
	set, err := n.CU.Runtimes()
	if err != nil {
		return ""
	}
	return set.Current().Version().String()
}
