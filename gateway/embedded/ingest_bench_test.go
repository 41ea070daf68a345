package embedded_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/aonode/aonode/bundler/ans104"
	"github.com/aonode/aonode/gateway/embedded"
	"github.com/everFinance/goar/types"
)

// assignmentLike is a bundle of n items shaped as the node uploads them (an SU assignment's tags, a random
// 512-byte owner and signature: the items are submitted as trusted, so their signatures are not checked).
func assignmentLike(b *testing.B, op, n int) []byte {
	owner := make([]byte, 512)
	rand.Read(owner)
	items := make([]types.BundleItem, n)
	for i := range items {
		tags := aoTags("Assignment", tag("Process", fmt.Sprintf("%043d", op)), tag("Epoch", "0"), tag("Nonce", fmt.Sprint(i)),
			tag("Hash-Chain", fmt.Sprintf("%043d", i)), tag("Block-Height", "000000001234"), tag("Timestamp", "1765160000000"),
			tag("Message", fmt.Sprintf("m%042d", op*n+i)))
		sig := make([]byte, 512)
		rand.Read(sig)
		raw := ans104.EncodeItem(1, sig, owner, nil, nil, len(tags), ans104.EncodeTags(tags), nil)
		it, err := ans104.Decode(raw)
		if err != nil {
			b.Fatal(err)
		}
		items[i] = *it
	}
	return bundle(b, items...).BundleBinary
}

// BenchmarkSubmitBundle is the embedded gateway's ingest of one node bundle of 2,000 trusted items (store,
// index, commit), per item.
func BenchmarkSubmitBundle(b *testing.B) {
	const n = 2000
	e := newEnv(b, embedded.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		tx, data := submitForm(e.signBundleTx(assignmentLike(b, i, n)))
		b.StartTimer()
		if _, err := e.g.Submit(context.Background(), tx, data, embedded.SubmitOptions{TrustedItems: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/item")
}
