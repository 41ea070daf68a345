package cu

import (
	"context"
	"fmt"

	"github.com/aonode/aonode/node/runtime"
)

// runCrons evaluates every cron tick up to untilMs (called with p.mu held), storing each result.
func (s *Service) runCrons(ctx context.Context, p *proc, untilMs int64) error {
	if p.crons == nil {
		return nil
	}
	for {
		tick, idx, ok := p.crons.Pop(untilMs)
		if !ok {
			p.cronUntil = max(p.cronUntil, untilMs)
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		spec := p.crons.Specs[idx]
		stored, storedErr := s.db.CronResult(ctx, p.id, tick, idx)
		if storedErr == nil && resultFailed(stored) {
			// A tick whose result was an Error left no state (see revert): not evaluated again.
			p.cronUntil = max(p.cronUntil, tick)
			continue
		}
		msg := runtime.Message{
			Owner: p.env.Process.Owner, From: p.env.Process.Owner, Target: p.id, Tags: runtimeTags(spec.Tags),
			Timestamp: tick, BlockHeight: p.blockHeight, Cron: true, Nonce: p.nonce,
		}
		res := p.vm.Handle(msg)
		s.stats.evaluated.Add(1)
		raw, err := res.Encode()
		if err != nil {
			return fmt.Errorf("encode cron result %s@%d: %w", p.id, tick, err)
		}
		if storedErr != nil {
			if err := s.db.PutCronResult(ctx, p.id, tick, idx, raw); err != nil {
				return err
			}
		}
		if res.Error != "" {
			p.cronUntil = max(p.cronUntil, tick)
			if err := s.revert(ctx, p); err != nil {
				return err
			}
		}
	}
}

// CronResult is one cron evaluation.
type CronResult struct {
	Tick   int64
	Index  int
	Result *runtime.Result
}

// Crons evaluates a process up to untilMs, cron ticks included, and returns the cron results after afterMs.
// untilMs must be a watermark from the SU (no message will ever be scheduled at or before it).
func (s *Service) Crons(ctx context.Context, pid string, afterMs, untilMs int64) ([]CronResult, error) {
	p, err := s.getProc(ctx, pid)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	err = s.evaluate(ctx, p, -1)
	if err == nil && p.gapUntil >= 0 {
		err = s.fillGap(ctx, p, p.gapUntil) // cron results before a foreign snapshot are not here either
	}
	if err == nil {
		err = s.runCrons(ctx, p, untilMs)
	}
	p.mu.Unlock()
	if err != nil {
		return nil, err
	}
	rows, err := s.db.CronResults(ctx, pid, afterMs, untilMs)
	if err != nil {
		return nil, err
	}
	out := make([]CronResult, 0, len(rows))
	for _, r := range rows {
		res, err := DecodeResult(r.Raw)
		if err != nil {
			return nil, err
		}
		out = append(out, CronResult{Tick: r.Tick, Index: r.Index, Result: res})
	}
	return out, nil
}
