package cu

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/runtime"
)

// A checkpoint is a process state snapshot published to Arweave as a data item signed by the CU, so a node
// that lost its disk can start the process from it instead of replaying all of its history. Its tags say
// what it is a state of; the payload is the gzipped snapshot, whose digest is in SHA-256.
const (
	CheckpointType   = "Checkpoint"
	CheckpointFormat = "aonode-state/3" // the version of the state snapshot format (stateVersion)
	// maxCheckpointSize bounds what a fetched checkpoint may inflate to.
	maxCheckpointSize = 1 << 30
)

// checkpointTags are the tags of a checkpoint of st.
func checkpointTags(st *procState, module string, digest []byte) []bundler.Tag {
	return []bundler.Tag{
		{Name: "Data-Protocol", Value: "ao"},
		{Name: "Variant", Value: "ao.TN.1"},
		{Name: "Type", Value: CheckpointType},
		{Name: "Process", Value: st.Process},
		{Name: "Module", Value: module},
		{Name: "Nonce", Value: strconv.FormatInt(st.Nonce, 10)},
		{Name: "Timestamp", Value: strconv.FormatInt(st.Timestamp, 10)},
		{Name: "Block-Height", Value: strconv.FormatInt(st.BlockHeight, 10)},
		{Name: "Hash-Chain", Value: st.HashChain},
		{Name: "SHA-256", Value: hex.EncodeToString(digest)},
		{Name: "Snapshot-Format", Value: CheckpointFormat},
		// What made it (also in the state itself): a CU whose runtime build differs does not use it.
		{Name: "Runtime-Version", Value: st.Stamp.Runtime},
		{Name: "Runtime-Digest", Value: st.Stamp.Digest},
		{Name: "Lua-VM", Value: st.Stamp.LuaVM},
		{Name: "Bytecode-Format", Value: st.Stamp.Bytecode},
		{Name: "Content-Type", Value: "application/octet-stream"},
		{Name: "Content-Encoding", Value: "gzip"},
	}
}

// queueCheckpoint signs the snapshot data as a checkpoint item and queues its upload.
func (s *Service) queueCheckpoint(ctx context.Context, p *proc, data []byte) error {
	st, err := decodeState(data)
	if err != nil {
		return err
	}
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestSpeed)
	if _, err := zw.Write(data); err != nil {
		return fmt.Errorf("compress checkpoint: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compress checkpoint: %w", err)
	}
	digest := sha256.Sum256(data)
	it, err := s.wallet.Sign(z.Bytes(), "", "", checkpointTags(st, p.env.Module.Id, digest[:]))
	if err != nil {
		return fmt.Errorf("sign checkpoint: %w", err)
	}
	if err := s.db.PutItem(ctx, it.ID, it.Raw, true); err != nil {
		return err
	}
	s.noteCheckpoint(ctx, p.id, st.Nonce, it.ID)
	s.log.Info("checkpoint queued", "process", p.id, "nonce", st.Nonce, "item", it.ID, "bytes", len(it.Raw))
	return nil
}

// CheckpointData checks a checkpoint item (already signature-verified) against the process it should be a
// state of and returns the snapshot it carries.
func CheckpointData(pid string, it *bundler.Item) ([]byte, error) {
	tag := func(n string) string { v, _ := it.Tag(n); return v }
	if tag("Type") != CheckpointType {
		return nil, fmt.Errorf("checkpoint %s: not a checkpoint", it.ID)
	}
	if f := tag("Snapshot-Format"); f != CheckpointFormat {
		return nil, fmt.Errorf("checkpoint %s: %w: format %q, not %s", it.ID, runtime.ErrStale, f, CheckpointFormat)
	}
	if tag("Process") != pid {
		return nil, fmt.Errorf("checkpoint %s: of process %q, not %s", it.ID, tag("Process"), pid)
	}
	data := it.Data
	if tag("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(it.Data))
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", it.ID, err)
		}
		data, err = io.ReadAll(io.LimitReader(zr, maxCheckpointSize+1))
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: decompress: %w", it.ID, err)
		}
		if len(data) > maxCheckpointSize {
			return nil, fmt.Errorf("checkpoint %s: larger than %d bytes", it.ID, maxCheckpointSize)
		}
	}
	digest := sha256.Sum256(data)
	if hex.EncodeToString(digest[:]) != tag("SHA-256") {
		return nil, fmt.Errorf("checkpoint %s: payload does not match its SHA-256 tag", it.ID)
	}
	st, err := decodeState(data)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", it.ID, err)
	}
	if strconv.FormatInt(st.Nonce, 10) != tag("Nonce") || st.Process != pid || st.Stamp.Runtime != tag("Runtime-Version") ||
		st.Stamp.Digest != tag("Runtime-Digest") || st.Stamp.LuaVM != tag("Lua-VM") || st.Stamp.Bytecode != tag("Bytecode-Format") {
		return nil, fmt.Errorf("checkpoint %s: tags and content disagree", it.ID)
	}
	return data, nil
}
