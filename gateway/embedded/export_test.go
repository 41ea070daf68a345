package embedded

import (
	"encoding/json"

	"go.etcd.io/bbolt"
)

// Records returns every stored record as JSON, with what depends on the moment it was stored (acceptance
// time, block id) cleared, so tests can compare what two gateways stored for the same uploads.
func (g *Gateway) Records() (map[string]string, error) {
	out := map[string]string{}
	err := g.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bTxs).ForEach(func(k, v []byte) error {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			r.Accepted, r.BlockID = 0, ""
			b, err := json.Marshal(r)
			out[string(k)] = string(b)
			return err
		})
	})
	return out, err
}
