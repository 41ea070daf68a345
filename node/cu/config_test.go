package cu

import (
	"github.com/aonode/aonode/node/progress"
	"github.com/aonode/aonode/node/runtime"
)

// Tests change a built CU's settings between steps (a policy for one phase, then another); production
// builds it once from a Config.

func (s *Service) setSnapshots(o SnapshotOptions)           { s.snapOpts = o }
func (s *Service) setCheckpointSource(src CheckpointSource) { s.ckptSource = src }
func (s *Service) setMaxLoaded(n int)                       { s.maxLoaded = n }
func (s *Service) setProgress(t *progress.Tracker)          { s.progress = t }
func (s *Service) setRuntimes(set *runtime.Set)             { s.runtimes = set }
