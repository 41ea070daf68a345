package explorer

import (
	"context"
	"errors"
	"html/template"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/aos"
	"github.com/aonode/aonode/node/cu"
	"github.com/aonode/aonode/node/progress"
	"github.com/aonode/aonode/node/runtime"
	"github.com/aonode/aonode/node/store"
)

// maxShownData is how much of a message's data a page shows; the rest is counted, not sent.
const maxShownData = 64 << 10

// itemView is a signed item as pages show it.
type itemView struct {
	ID, Owner, Target, Anchor string
	Tags                      []bundler.Tag
	Data                      string // UTF-8 text, cut at maxShownData
	DataSize                  int
	Binary, Cut               bool
	Type, Action              string
	FromProcess, PushedFor    string
}

func viewItem(it *bundler.Item) *itemView {
	if it == nil {
		return nil
	}
	v := &itemView{ID: it.ID, Owner: it.OwnerAddress(), Target: it.Target, Tags: it.Tags, DataSize: len(it.Data)}
	if it.Anchor != "" {
		v.Anchor = bundler.B64([]byte(it.Anchor))
	}
	v.Type, _ = it.Tag("Type")
	v.Action, _ = it.Tag("Action")
	v.FromProcess, _ = it.Tag("From-Process")
	v.PushedFor, _ = it.Tag("Pushed-For")
	data := it.Data
	if len(data) > maxShownData {
		data, v.Cut = data[:maxShownData], true
	}
	if utf8.Valid(data) || v.Cut && utf8.Valid(data[:max(0, len(data)-utf8.UTFMax)]) {
		v.Data = strings.ToValidUTF8(string(data), "")
	} else {
		v.Binary = true
	}
	return v
}

// outMessageView is one message of a result's outbox, with what the MU delivered for it.
type outMessageView struct {
	Target, Action, Data string
	Tags                 []aos.OutTag
	Delivered            string // the pushed item's id ("" when not known)
}

// resultView is one evaluation as the aos console shows it.
type resultView struct {
	Error       template.HTML // the error's text, ANSI colours as HTML (AOS colours its error reports)
	Output      template.HTML // the Output's text, ANSI colours as HTML
	HasOutput   bool
	Prompt      template.HTML
	Messages    []outMessageView
	Spawns      []outMessageView
	Assignments []runtime.OutAssignment
	GasUsed     int64
}

func viewResult(r *runtime.Result) *resultView {
	v := &resultView{Error: ANSI(r.Error), GasUsed: r.GasUsed, Assignments: r.Assignments}
	if r.Output.Data != "" {
		v.Output, v.HasOutput = ANSI(r.Output.Data), true
	}
	v.Prompt = ANSI(r.Output.Prompt)
	for _, m := range r.Messages {
		v.Messages = append(v.Messages, outMessageView{Target: m.Target, Action: outTag(m.Tags, "Action"), Data: m.Data, Tags: m.Tags})
	}
	for _, s := range r.Spawns {
		v.Spawns = append(v.Spawns, outMessageView{Action: outTag(s.Tags, "Name"), Data: s.Data, Tags: s.Tags})
	}
	return v
}

func outTag(ts []aos.OutTag, name string) string {
	for _, t := range ts {
		if t.Name == name {
			return t.Value
		}
	}
	return ""
}

// entryView is one slot of a schedule: the assignment, what it assigns, and its result.
type entryView struct {
	Process                 string
	Nonce                   int64
	Timestamp, BlockHeight  int64
	MessageID, AssignmentID string
	HashChain               string
	Local                   bool
	Message                 *itemView   // nil when the message is not held here (an on-chain transaction)
	Result                  *resultView // nil while it is not evaluated
	// From is who sent it: the process it came from (pushed by a trusted MU), else its signer.
	From        string
	FromProcess bool
}

// entries builds the views of schedule entries: each message's item and stored result, read one by one
// (the page's entries only: a schedule is never read whole).
func (x *Explorer) entries(ctx context.Context, es []store.Entry) ([]entryView, error) {
	out := make([]entryView, 0, len(es))
	for _, e := range es {
		v := entryView{
			Process: e.Process, Nonce: e.Nonce, Timestamp: e.Timestamp, BlockHeight: e.BlockHeight,
			MessageID: e.MessageID, AssignmentID: e.AssignmentID, HashChain: e.HashChain, Local: e.Local,
		}
		raw, err := x.o.Store.Item(ctx, e.MessageID)
		switch {
		case err == nil:
			it, err := bundler.ParseStored(raw)
			if err != nil {
				return nil, err
			}
			v.Message = viewItem(it)
			v.From = v.Message.Owner
			if v.Message.FromProcess != "" {
				v.From, v.FromProcess = v.Message.FromProcess, true
			}
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
		res, err := x.result(ctx, e.Process, e.Nonce)
		if err != nil {
			return nil, err
		}
		v.Result = res
		out = append(out, v)
	}
	return out, nil
}

// result is the stored result at nonce, or nil when it is not evaluated yet.
func (x *Explorer) result(ctx context.Context, pid string, nonce int64) (*resultView, error) {
	raw, err := x.o.Store.Result(ctx, pid, nonce)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r, err := cu.DecodeResult(raw)
	if err != nil {
		return nil, err
	}
	return viewResult(r), nil
}

// uploadView is one upload queue row with how long it has waited.
type uploadView struct {
	store.Upload
	Waiting string // since it was queued, while it is not confirmed
}

func (x *Explorer) viewUploads(ups []store.Upload) []uploadView {
	now := x.now().UnixMilli()
	out := make([]uploadView, len(ups))
	for i, u := range ups {
		out[i] = uploadView{Upload: u}
		if u.Status != store.UploadConfirmed && u.Queued > 0 {
			out[i].Waiting = progress.Duration(time.Duration(now-u.Queued) * time.Millisecond)
		}
	}
	return out
}
