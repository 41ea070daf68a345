package mu

import (
	"context"
	"fmt"
	"time"

	"github.com/aonode/aonode/node/store"
)

// RunMonitors queues the cron results of monitored processes for pushing every interval until ctx ends.
func (m *Service) RunMonitors(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		mons, err := m.db.Monitors(ctx)
		if err != nil {
			m.log.Error("monitors: list", "err", err)
			continue
		}
		for _, mon := range mons {
			if err := m.tickMonitor(ctx, mon); err != nil && ctx.Err() == nil {
				m.log.Error("monitor: push cron results", "process", mon.Process, "err", err)
			}
		}
	}
}

// tickMonitor evaluates a monitored process's cron ticks up to its scheduler's watermark and queues their
// outboxes in the transaction that moves the monitor's cursor past them, so each tick is pushed once.
func (m *Service) tickMonitor(ctx context.Context, mon store.Monitor) error {
	until, err := m.su.Watermark(ctx, mon.Process)
	if err != nil {
		return fmt.Errorf("watermark: %w", err)
	}
	after := max(mon.Cursor, mon.Since)
	results, err := m.cu.Crons(ctx, mon.Process, after, until)
	if err != nil {
		return fmt.Errorf("evaluate crons: %w", err)
	}
	if len(results) == 0 {
		return nil
	}
	var b store.TaskBatch
	for _, r := range results {
		ob, err := m.outbox(ctx, mon.Process, fmt.Sprintf("cron-%d-%d", r.Tick, r.Index), r.Result, "", map[string]bool{m.wallet.Address(): true, m.su.Address(): true})
		if err != nil {
			return err
		}
		b.Tasks, b.Wallet = append(b.Tasks, ob.Tasks...), append(b.Wallet, ob.Wallet...)
		mon.Cursor = r.Tick
	}
	b.Monitor = &mon // a monitor removed meanwhile stays removed
	if err := m.db.FinishTasks(ctx, b); err != nil {
		return err
	}
	m.toWallets.Add(int64(len(b.Wallet)))
	m.Wake()
	return nil
}
