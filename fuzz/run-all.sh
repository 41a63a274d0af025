#!/usr/bin/env bash
# Build every fuzz target once and run each for SECONDS_PER_TARGET seconds (default 10), on
# the stable toolchain, without a sanitizer (`-s none`: Rust panics are still caught).
#
#   fuzz/run-all.sh [SECONDS_PER_TARGET]
#
# Environment:
#   FUZZ_TARGET_DIR   cargo target dir (default fuzz/target)
#   FUZZ_TARGETS      space-separated subset of targets (default: all of `cargo fuzz list`)
#   FUZZ_SANITIZER    "none" (default) or "address" (AddressSanitizer via RUSTC_BOOTSTRAP=1)
#   FUZZ_REPLAY       targets that only replay their seeds and regressions (-runs=0: every
#                     input once, no mutation), e.g. a differential target whose classes of
#                     disagreement with the other implementation are still being catalogued
#   FUZZ_RUNS         run each target for exactly this many inputs with FUZZ_SEED (default 1)
#                     instead of SECONDS_PER_TARGET: the same inputs on every machine, so a CI
#                     result is reproducible (a time-bounded run explores a different amount
#                     each time, and a differential target may meet a new disagreement class)
#
# Each target runs on fuzz/corpus/<target> (kept between runs, not committed) seeded from
# fuzz/seeds/<target> and fuzz/regressions/<target>, with the protocol's dictionary. A crash,
# a timeout (-timeout=10 s for one input) or running out of memory (-rss_limit_mb=2048) fails
# the run; the input is saved under fuzz/artifacts/<target>/. Prints exec/s per target.
set -euo pipefail

secs="${1:-10}"
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
target_dir="${FUZZ_TARGET_DIR:-$here/target}"
sanitizer="${FUZZ_SANITIZER:-none}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

build=(cargo fuzz build --target-dir "$target_dir")
if [ "$sanitizer" = none ]; then
    build+=(-s none)
else
    # -Zsanitizer needs a nightly flag; stable accepts it with RUSTC_BOOTSTRAP=1.
    export RUSTC_BOOTSTRAP=1
    build+=(-s "$sanitizer")
fi
start=$(date +%s)
"${build[@]}"
echo "built in $(( $(date +%s) - start )) s" >&2

triple="$(rustc -vV | sed -n 's/^host: //p')"
bin_dir="$target_dir/$triple/release"
targets="${FUZZ_TARGETS:-$(cargo fuzz list)}"

failed=()
printf '%-28s %12s %8s  %s\n' target exec/s corpus result
for t in $targets; do
    corpus="corpus/$t"
    mkdir -p "$corpus" "artifacts/$t"
    dirs=("$corpus")
    for extra in "seeds/$t" "regressions/$t"; do
        [ -d "$extra" ] && dirs+=("$extra")
    done
    if [[ " ${FUZZ_REPLAY:-} " == *" $t "* ]]; then
        bound=(-runs=0)
    elif [ -n "${FUZZ_RUNS:-}" ]; then
        bound=(-runs="$FUZZ_RUNS" -seed="${FUZZ_SEED:-1}")
    else
        bound=(-max_total_time="$secs")
    fi
    args=("${bound[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="artifacts/$t/")
    dict="dict/${t%%_*}.dict"
    [ -f "$dict" ] && args+=(-dict="$dict")
    log="artifacts/$t/last-run.log"
    if "$bin_dir/$t" "${args[@]}" "${dirs[@]}" >"$log" 2>&1; then
        result=ok
    else
        result="FAILED (see $log)"
        failed+=("$t")
    fi
    execs="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
    size="$(ls "$corpus" | wc -l)"
    printf '%-28s %12s %8s  %s\n' "$t" "${execs:--}" "$size" "$result"
done
echo "total $(( $(date +%s) - start )) s" >&2

if [ ${#failed[@]} -gt 0 ]; then
    echo "failing targets: ${failed[*]}" >&2
    for t in "${failed[@]}"; do
        grep -E 'panicked at|^Test unit written|SUMMARY' "artifacts/$t/last-run.log" | head -5 >&2 || true
    done
    exit 1
fi
