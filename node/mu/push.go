package mu

import (
	"context"
	"errors"
	"fmt"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/store"
	"github.com/aonode/aonode/node/su"
)

// item reads the signed item a task keeps.
func (m *Service) item(ctx context.Context, t *store.Task) (*bundler.Item, error) {
	raw, err := m.db.TaskItem(ctx, t.Seq)
	if err != nil {
		return nil, err
	}
	it, err := bundler.ParseStored(raw)
	if err != nil {
		return nil, permanent{fmt.Errorf("stored item of task %d: %w", t.Seq, err)}
	}
	return it, nil
}

// route says where a pushed message to target goes: this node's SU, another SU (its URL), or Arweave only (a
// wallet, or a transaction that is not a process). A target the gateway does not know at all, and that has
// never signed anything it knows either, is ErrUnknownTarget: it may be a process spawned a moment ago on
// another node, so the push is tried again rather than taken for a wallet.
func (m *Service) route(ctx context.Context, target string) (local bool, url string, wallet bool, err error) {
	if local, err = m.schedulesHere(ctx, target); err != nil || local {
		return local, "", false, err
	}
	url, err = m.remote.Locate(ctx, target)
	switch {
	case err == nil:
		return false, url, false, nil
	case errors.Is(err, ErrNotProcess):
		return false, "", true, nil
	case errors.Is(err, ErrUnknownTarget):
		known, werr := m.remote.IsWallet(ctx, target)
		if werr != nil {
			return false, "", false, fmt.Errorf("look %s up as a wallet: %w", target, werr)
		}
		if known {
			return false, "", true, nil
		}
		return false, "", false, fmt.Errorf("target %s: %w (neither a process nor a wallet it knows)", target, ErrUnknownTarget)
	}
	return false, "", false, fmt.Errorf("locate scheduler of %s: %w", target, err)
}

// pushMessage delivers one signed message.
func (m *Service) pushMessage(ctx context.Context, t *store.Task) error {
	it, err := m.item(ctx, t)
	if err != nil {
		return err
	}
	local, url, wallet, err := m.route(ctx, t.Target)
	if err != nil {
		return err
	}
	b := store.TaskBatch{}
	switch {
	case wallet:
		// A message to a wallet is kept and uploaded, as the reference MU writes it to Arweave.
		b.Wallet = []store.NewTask{{Task: *t, Raw: it.Raw}}
	case local:
		if err := m.writeLocal(ctx, it); err != nil {
			return err
		}
	default:
		if _, err := m.remote.Post(ctx, url, it.Raw); err != nil {
			return err
		}
	}
	if t.Then != nil {
		b.Tasks = []store.NewTask{*t.Then}
	}
	if err := m.finish(ctx, t, b); err != nil {
		return err
	}
	if wallet {
		m.toWallets.Add(1)
	} else {
		m.delivered.Add(1)
	}
	return nil
}

// writeLocal schedules an item on this node's SU (a repeat of an item already scheduled is answered as the
// first time). A refusal of this SU is final: the same item would be refused again.
func (m *Service) writeLocal(ctx context.Context, it *bundler.Item) error {
	_, err := m.su.Write(ctx, it)
	var se *su.Error
	if errors.As(err, &se) && se.HTTPStatus() < 500 {
		return permanent{fmt.Errorf("this node's SU refused it: %w", err)}
	}
	return err
}

// pushSpawn delivers a signed spawn to the scheduler it names, then queues the parent's Spawned notice.
func (m *Service) pushSpawn(ctx context.Context, t *store.Task) error {
	it, err := m.item(ctx, t)
	if err != nil {
		return err
	}
	sched, _ := it.Tag("Scheduler")
	if sched == m.su.Address() {
		if err := m.writeLocal(ctx, it); err != nil {
			return err
		}
	} else {
		url, err := m.remote.LocateScheduler(ctx, sched)
		if err != nil {
			return fmt.Errorf("scheduler %s: %w", sched, err)
		}
		if _, err := m.remote.Post(ctx, url, it.Raw); err != nil {
			return err
		}
	}
	b := store.TaskBatch{}
	if t.Then != nil {
		b.Tasks = []store.NewTask{*t.Then}
	}
	if err := m.finish(ctx, t, b); err != nil {
		return err
	}
	m.delivered.Add(1)
	return nil
}

// pushAssign assigns a message to a process, on this node's SU or the process's own (assigning twice is
// answered as the first time).
func (m *Service) pushAssign(ctx context.Context, t *store.Task) error {
	local, err := m.schedulesHere(ctx, t.Target)
	if err != nil {
		return err
	}
	if local {
		// Not final even when refused: the message may be one the gateway has not indexed yet.
		if _, err := m.su.Assign(ctx, t.Target, t.Message, false, nil); err != nil {
			return err
		}
	} else {
		url, err := m.remote.Locate(ctx, t.Target)
		if errors.Is(err, ErrNotProcess) {
			return permanent{fmt.Errorf("assign to %s: %w", t.Target, err)}
		}
		if err != nil {
			return fmt.Errorf("assign to %s: %w", t.Target, err)
		}
		if err := m.remote.Assign(ctx, url, t.Target, t.Message); err != nil {
			return err
		}
	}
	if err := m.finish(ctx, t, store.TaskBatch{}); err != nil {
		return err
	}
	m.delivered.Add(1)
	return nil
}
