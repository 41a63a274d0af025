#!/usr/bin/env bash
# The test command (README): install the real clients the tests drive, then run every test of
# the workspace: unit tests, integration tests over loopback, and the corpus against the oracle.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo test --workspace --locked "$@"
