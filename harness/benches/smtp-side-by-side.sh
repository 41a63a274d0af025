#!/usr/bin/env bash
# harness/benches/smtp-side-by-side.sh: the SMTP accept-rate benchmark of BENCHMARKS.md,
# our MTA and Postfix alternately (so machine load hits both alike), RUNS rounds.
#
#   cargo build --release -p wirecheck
#   WIRECHECK_PEERS_PORT_OFFSET=4000 scripts/peers.sh start postfix     # smtp=127.0.0.1:6525
#   harness/benches/smtp-side-by-side.sh [RUNS] [WIRECHECK_BIN...]
#
# Several binaries (say, before and after a change) each get their own server, port and
# store, and take turns with Postfix in every round. Prints one line per run (server,
# seconds, msg/s, the server's CPU time for the run where we know its process, load average)
# and each server's median. Every server fsyncs a message before its 250; all stores are on
# the same file system (/tmp), and none is removed before the end: on ext4 without a journal,
# creating a file right after many were deleted costs more (`recently_deleted` in inode
# allocation), which penalises whichever server runs after a deletion.
set -euo pipefail
RUNS=${1:-5}
shift || true
[ $# -gt 0 ] || set -- "${CARGO_TARGET_DIR:-target}/release/wirecheck"
PORT=${OURS_PORT:-2600}
POSTFIX=${POSTFIX_ADDR:-127.0.0.1:6525}
MSGS=${MSGS:-2000}
PATH=$PATH:/usr/sbin
work=$(mktemp -d /tmp/bench-smtp.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
    wait 2> /dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
names=() addrs=() spids=()
i=0
for bin in "$@"; do
    port=$((PORT + i))
    "$bin" serve --smtp "$port" --store "$work/store$i" > "$work/serve$i.log" 2>&1 &
    pids+=($!)
    spids+=($!)
    for _ in $(seq 50); do
        (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break
        sleep 0.1
    done
    names+=("wc$i:$(basename "$(dirname "$bin")")/$(basename "$bin")")
    addrs+=("127.0.0.1:$port")
    i=$((i + 1))
done
names+=(postfix)
addrs+=("$POSTFIX")
spids+=("")
hz=$(getconf CLK_TCK)
cpu() { # pid: utime + stime in ticks
    if [ -n "$1" ]; then awk '{print $14 + $15}' "/proc/$1/stat"; else echo 0; fi
}
one() { # name addr pid
    local t0 t1 s c0 c1 cs
    c0=$(cpu "$3")
    t0=$(date +%s.%N)
    smtp-source -s 10 -l 4096 -m "$MSGS" -f sender@client.test -t alice@example.test "$2"
    t1=$(date +%s.%N)
    c1=$(cpu "$3")
    s=$(echo "$t1 - $t0" | bc -l)
    if [ -n "$3" ]; then cs=$(printf '%5.2f s CPU' "$(echo "($c1 - $c0) / $hz" | bc -l)"); else cs='    ?     '; fi
    printf '%-28s %6.2f s %7.0f msg/s  %s  load %s\n' "$1" "$s" "$(echo "$MSGS / $s" | bc -l)" \
        "$cs" "$(cut -d' ' -f1-3 /proc/loadavg)"
    [ "$counted" = yes ] && echo "$1 $(echo "$MSGS / $s" | bc -l)" >> "$work/rates"
    [ "$counted" = yes ] && [ -n "$3" ] && echo "$1 $(echo "($c1 - $c0) / $hz" | bc -l)" >> "$work/cpu"
    return 0
}
# A first round that is not counted: the file system may still be busy with the files the
# previous benchmark removed (see above).
counted=no
for k in "${!names[@]}"; do one "${names[$k]}" "${addrs[$k]}" "${spids[$k]}" > /dev/null; done
counted=yes
for _ in $(seq "$RUNS"); do
    for k in "${!names[@]}"; do one "${names[$k]}" "${addrs[$k]}" "${spids[$k]}"; done
done
for who in "${names[@]}"; do
    grep "^$who " "$work/rates" | cut -d' ' -f2 | sort -n |
        awk -v w="$who" '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "median %-28s %7.0f msg/s over %d runs\n", w, m, NR}'
    grep -s "^$who " "$work/cpu" | cut -d' ' -f2 | sort -n |
        awk -v w="$who" '{a[NR]=$1} END {if (NR) {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "median %-28s %7.2f s CPU per %s messages\n", w, m, '"$MSGS"'}}'
done
