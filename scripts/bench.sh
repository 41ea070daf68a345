#!/usr/bin/env bash
# The README's benchmark figures in one run: CU evaluation throughput on one core (VM alone as the baseline),
# cold start of a 100,000-message process by replay and from its snapshot, memory per idle process (a bare
# gopher-lua state as the baseline), the single-core RSA-4096 signing rate and the node's RSA signer (both CRT
# halves at once) against it, and signed messages over HTTP with RSA and ed25519 node keys: one process x 16
# clients (the RSA signing rate as the baseline; rsa-no-replies: assignments only), 50 processes x 50 clients
# (the CU's evaluation rate as the baseline), and one message's latency to its result (p50/p99).
# Extra arguments go to `go test` (e.g. -count 3); AONODE_BENCH_PROFILE=DIR writes CPU and block profiles of the
# HTTP benchmarks' measured part there.
set -euo pipefail
cd "$(dirname "$0")/.."
go test ./test/bench -run '^$' -bench . -benchtime 1x -timeout 60m "$@"
