#!/usr/bin/env bash
# The README's benchmark figures in one run: CU evaluation throughput on one core (VM alone as the baseline),
# cold start of a 100,000-message process by replay and from its snapshot, memory per idle process (a bare
# gopher-lua state as the baseline), and signed messages over HTTP (the CU's evaluation rate as the baseline).
# Extra arguments go to `go test` (e.g. -count 3).
set -euo pipefail
cd "$(dirname "$0")/.."
go test ./test/bench -run '^$' -bench . -benchtime 1x -timeout 60m "$@"
