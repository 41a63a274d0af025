#!/usr/bin/env bash
# scripts/peers/conformance.sh [--out DIR] [--corpus DIR] [--no-install] [PEER...] [-- RUN-ARGS...]
#
# The real-peer job: for each peer (default: postfix dovecot vsftpd proftpd nsd knot bind9 unbound),
# install it when it is missing, start it with scripts/peers.sh, run the corpus against each of
# its services with `wirecheck run PROTOCOL --target ADDR --insecure ...`, stop it, and print a
# summary table. When postfix and dovecot are both on the list, the scenarios/ transcripts (mail
# sent by SMTP and read back by POP3 and IMAP) run against the two together, postfix delivering
# into dovecot's maildir. Unbound is also the resolver under test of the server-role DNS cases
# (row `dns-resolver`; scripts/peers/unbound-resolve.py starts one Unbound per case).
#
# A case that ends `fail` or `error` is expected when CORPUS/deviations/<peer>.toml lists
# it (see verdict.py); any other one fails the job. Exit status: 0 no unexpected failure, 1 an
# unexpected failure, or a peer that could not be installed, started or run against.
#
# Out: DIR/<peer>-<protocol>.json, .xml (JUnit), .log (the run's output) and
# html/<peer>-<protocol>/ (default DIR: target/peers-conformance; CORPUS: transcripts).
# RUN-ARGS go to every `wirecheck run` (a filter, --skip ID, --timeout 2s ...). The wirecheck
# binary is $WIRECHECK when set, else it is built with cargo (--release) and taken from
# ${CARGO_TARGET_DIR:-target}/release/wirecheck.
# WIRECHECK_PEERS_PORT_OFFSET moves every peer's ports (e.g. 1000 when the defaults are taken).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PEERS=$ROOT/scripts/peers.sh
DEFAULT_PEERS=(postfix dovecot vsftpd proftpd nsd knot bind9 unbound)

say() { printf 'conformance: %s\n' "$*" >&2; }
die() { printf 'conformance: error: %s\n' "$*" >&2; exit 1; }
python() {
    if [ -x /usr/bin/python3 ]; then /usr/bin/python3 "$@"; else python3 "$@"; fi
}

out=$ROOT/target/peers-conformance
corpus=transcripts
install=1
peers=()
run_args=()
while [ $# -gt 0 ]; do
    case $1 in
        --out) out=${2:?--out needs a directory}; shift 2 ;;
        --corpus) corpus=${2:?--corpus needs a directory}; shift 2 ;;
        --no-install) install=0; shift ;;
        --) shift; run_args=("$@"); break ;;
        -h | --help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) peers+=("$1"); shift ;;
    esac
done
[ ${#peers[@]} -gt 0 ] || peers=("${DEFAULT_PEERS[@]}")
mkdir -p "$out"
out=$(cd "$out" && pwd)
[ -d "$corpus" ] || die "no corpus directory $corpus"
corpus=$(cd "$corpus" && pwd)
cd "$ROOT"

# ---------------------------------------------------------------- the wirecheck binary

if [ -n "${WIRECHECK:-}" ]; then
    read -r -a wirecheck <<< "$WIRECHECK"
else
    say "building wirecheck (cargo build --release -p wirecheck)"
    cargo build --quiet --release -p wirecheck || die "wirecheck does not build"
    wirecheck=("${CARGO_TARGET_DIR:-$ROOT/target}/release/wirecheck")
fi
[ -x "${wirecheck[0]}" ] || command -v "${wirecheck[0]}" > /dev/null || die "no wirecheck binary at ${wirecheck[0]}"

# ---------------------------------------------------------------- install

# Install what is missing in one apt run, except a second server of one family (vsftpd and
# proftpd): that one is installed just before its turn, which removes the first. The family
# belongs to its first peer on the list even when that one is installed already, so on a
# re-run (proftpd left installed) vsftpd comes back first and proftpd again in its turn.
ensure_installed() {
    local p f batch=()
    declare -A family_taken=()
    for p in "$@"; do
        case $p in
            vsftpd | proftpd) f=ftp ;;
            postfix) f=mta ;;
            dovecot) f=imap ;;
            *) f=$p ;;
        esac
        if "$PEERS" installed "$p"; then
            family_taken[$f]=1
            continue
        fi
        [ "$install" = 1 ] || continue
        [ -n "${family_taken[$f]:-}" ] && continue
        family_taken[$f]=1
        batch+=("$p")
    done
    [ ${#batch[@]} -eq 0 ] || "$PEERS" install "${batch[@]}" || say "installing ${batch[*]} failed"
}

# ---------------------------------------------------------------- one run

started=()
stop_started() {
    local p
    for p in "${started[@]}"; do "$PEERS" stop "$p" || true; done
    started=()
}
trap stop_started EXIT
trap 'exit 130' INT TERM

# start PEER...: start each (the environment passes through); their SERVICE=ADDR lines go into
# the array `services`
start() {
    local p lines
    services=()
    for p in "$@"; do
        lines=$("$PEERS" start "$p") || return 1
        started+=("$p")
        mapfile -t -O "${#services[@]}" services <<< "$lines"
    done
}

# restart: stop what runs and start the same peers again (same ports: a fresh fixture)
restart() {
    local again=("${started[@]}")
    stop_started
    start "${again[@]}"
}

rows=()
status=0

# row PEER PROTOCOL TARGET SECONDS VERDICT [COUNTS]
row() {
    rows+=("$(printf '%s\t%s\t%s\t%s\t%s\t%s' "$1" "$2" "$3" "$4" "$5" "${6:-}")")
}

# wirecheck_run BASE PROTOCOL TARGET NAME ARGS...: one `wirecheck run`, its outputs at BASE.*
wirecheck_run() {
    local base=$1 proto=$2 target=$3 name=$4 html rc=0
    shift 4
    html=$out/html/${base##*/}
    rm -rf "$base.json" "$base.xml" "$base.log" "$html"
    "${wirecheck[@]}" run "$proto" --target "$target" --insecure --corpus "$corpus" --name "$name" \
        --json "$base.json" --junit "$base.xml" --report "$html" "$@" > "$base.log" 2>&1 || rc=$?
    [ -s "$base.json" ] && return 0
    tail -n 20 "$base.log" >&2
    say "$name $proto: the run could not be done (exit $rc), see $base.log"
    return 1
}

# target_of PROTOCOL: the address of that service among the running peers' `services` (for
# scenarios: the SMTP service)
target_of() {
    local want=$1 line
    [ "$want" = scenarios ] && want=smtp
    for line in "${services[@]}"; do
        [ "${line%%=*}" = "$want" ] && { echo "${line#*=}"; return; }
    done
}

# run_protocol NAME PROTOCOL DEVIATION-FILES... -- EXTRA-ARGS...: the corpus of PROTOCOL against
# the service of that name among the running peers' `services`. Server-role transcripts are
# skipped; the rest runs against the running peers at once, except the destructive ones, which
# run afterwards one by one, each against freshly restarted peers.
run_protocol() {
    local name=$1 proto=$2 devs=() extra=() skips=() destructive=() kind id t0 target
    local reports=() counts vrc=0 failed=0
    shift 2
    while [ $# -gt 0 ] && [ "$1" != -- ]; do devs+=("$1"); shift; done
    [ $# -eq 0 ] || { shift; extra=("$@"); }
    target=$(target_of "$proto")
    while IFS=$'\t' read -r kind id; do
        [ -n "$id" ] || continue
        skips+=(--skip "$id")
        [ "$kind" = destructive ] && destructive+=("$id")
    done < <(python "$HERE/cases.py" "$corpus" "$proto")

    t0=$(date +%s)
    say "$name: wirecheck run $proto --target $target (${#destructive[@]} destructive case(s) afterwards)"
    if wirecheck_run "$out/$name-$proto" "$proto" "$target" "$name" "${extra[@]}" "${skips[@]}" "${run_args[@]}"; then
        reports+=("$out/$name-$proto.json")
    else
        failed=1
    fi
    for id in "${destructive[@]}"; do
        if ! restart; then
            failed=1
            break
        fi
        target=$(target_of "$proto")
        if wirecheck_run "$out/$name-$proto.$id" "$proto" "$target" "$name" "${extra[@]}" "$id" --exact "${run_args[@]}"; then
            reports+=("$out/$name-$proto.$id.json")
        else
            failed=1
        fi
    done
    local secs=$(($(date +%s) - t0))
    if [ ${#reports[@]} -eq 0 ]; then
        row "$name" "$proto" "$target" "$secs" "RUN FAILED"
        status=1
        return
    fi
    counts=$(python "$HERE/verdict.py" "${reports[@]}" "${devs[@]}") || vrc=$?
    if [ "$failed" = 1 ]; then
        row "$name" "$proto" "$target" "$secs" "RUN FAILED" "$counts"
        status=1
        return
    fi
    case $vrc in
        0) row "$name" "$proto" "$target" "$secs" ok "$counts" ;;
        1) row "$name" "$proto" "$target" "$secs" UNEXPECTED "$counts"; status=1 ;;
        *) row "$name" "$proto" "$target" "$secs" "BAD REPORT" "$counts"; status=1 ;;
    esac
}

# run_resolver_cases PEER: the server-role DNS transcripts (wirecheck plays root, TLD and
# authoritative servers) with the resolver PEER as the client under test, one case per run:
# scripts/peers/PEER-resolve.py starts a fresh PEER per case, aimed at wirecheck's listener, and
# asks it the case's questions (the arguments its `target-cmd` gives `wirecheck dns-resolve`).
run_resolver_cases() {
    local name=$1 id cmd t0 reports=() counts vrc=0 failed=0 base
    t0=$(date +%s)
    say "$name: the server-role DNS cases, $name as the resolver"
    while IFS=$'\t' read -r id cmd; do
        [ -n "$id" ] || continue
        base=$out/$name-dns-resolver.$id
        rm -f "$base.json" "$base.xml" "$base.log"
        "${wirecheck[@]}" run dns --client-cmd "$cmd" --corpus "$corpus" --name "$name" --json "$base.json" \
            --junit "$base.xml" "$id" --exact "${run_args[@]}" > "$base.log" 2>&1 || true
        if [ -s "$base.json" ]; then reports+=("$base.json"); else failed=1; say "$name $id: no report, see $base.log"; fi
    done < <(python "$HERE/$name-resolve.py" cases "$corpus")
    local secs=$(($(date +%s) - t0))
    if [ ${#reports[@]} -eq 0 ] || [ "$failed" = 1 ]; then
        row "$name" dns-resolver - "$secs" "RUN FAILED"
        status=1
        return
    fi
    counts=$(python "$HERE/verdict.py" "${reports[@]}" "$corpus/deviations/$name.toml") || vrc=$?
    case $vrc in
        0) row "$name" dns-resolver - "$secs" ok "$counts" ;;
        1) row "$name" dns-resolver - "$secs" UNEXPECTED "$counts"; status=1 ;;
        *) row "$name" dns-resolver - "$secs" "BAD REPORT" "$counts"; status=1 ;;
    esac
}

# fixture flags per protocol: what every peer here provides (docs/transcripts.md "Fixtures")
fixture_args() {
    case $1 in
        smtp | ftp) echo --tls ;;
        # IMAP one case at a time: Dovecot 2.3 races on CREATE right after another session's
        # DELETE of the same name (NO [ALREADYEXISTS]; see transcripts/deviations/dovecot.toml),
        # which would fail a random case of a concurrent run.
        imap) echo --tls --mailbox-count 2 --test-threads 1 ;;
        pop3 | scenarios) echo --tls --mailbox-count 2 ;;
        *) ;;
    esac
}

# ---------------------------------------------------------------- the job

t_job=$(date +%s)
ensure_installed "${peers[@]}"
for peer in "${peers[@]}"; do
    if ! "$PEERS" installed "$peer"; then
        [ "$install" = 1 ] && "$PEERS" install "$peer" || true
    fi
    if ! "$PEERS" installed "$peer"; then
        row "$peer" - - 0 "NOT INSTALLED"
        status=1
        continue
    fi
    if ! start "$peer"; then
        row "$peer" - - 0 "START FAILED"
        status=1
        stop_started
        continue
    fi
    protocols=()
    for line in "${services[@]}"; do protocols+=("${line%%=*}"); done
    for proto in "${protocols[@]}"; do
        # shellcheck disable=SC2046
        run_protocol "$peer" "$proto" "$corpus/deviations/$peer.toml" -- $(fixture_args "$proto")
    done
    stop_started
    # a resolver peer is also the client under test of the server-role DNS cases
    if [ "$peer" = unbound ]; then run_resolver_cases "$peer"; fi
done

# scenarios: postfix and dovecot together (postfix delivering alice's mail into dovecot's
# maildir), when both are on the list and the corpus has scenarios
has_peer() { local p; for p in "${peers[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }
if has_peer postfix && has_peer dovecot && [ -n "$(find "$corpus/scenarios" -name '*.toml' 2> /dev/null | head -n 1)" ]; then
    export WIRECHECK_POSTFIX_MAILDIR
    mkdir -p "${WIRECHECK_PEERS_DIR:-/tmp/wirecheck-peers}"
    WIRECHECK_POSTFIX_MAILDIR=$(cd "${WIRECHECK_PEERS_DIR:-/tmp/wirecheck-peers}" && pwd)/dovecot/mail/alice/Maildir
    if start dovecot postfix; then
        service_args=()
        for line in "${services[@]}"; do service_args+=(--service "$line"); done
        # shellcheck disable=SC2046
        run_protocol postfix+dovecot scenarios \
            "$corpus/deviations/postfix.toml" "$corpus/deviations/dovecot.toml" -- \
            "${service_args[@]}" $(fixture_args scenarios)
    else
        row postfix+dovecot scenarios - 0 "START FAILED"
        status=1
    fi
    stop_started
    unset WIRECHECK_POSTFIX_MAILDIR
fi

# ---------------------------------------------------------------- the summary

{
    format='%-16s %-9s %-16s %5s %5s %5s %5s %5s %6s %5s %5s %5s %4s  %s\n'
    # shellcheck disable=SC2059
    printf "$format" PEER PROTOCOL TARGET CASES PASS KNOWN NEW ERROR SHOULD UNIMP INFO SKIP SECS VERDICT
    for r in "${rows[@]}"; do
        IFS=$'\t' read -r peer proto target secs verdict cases pass known new error nonstrict unimpl info skipped <<< "$r"
        # shellcheck disable=SC2059
        printf "$format" "$peer" "$proto" "$target" "${cases:--}" "${pass:--}" "${known:--}" "${new:--}" \
            "${error:--}" "${nonstrict:--}" "${unimpl:--}" "${info:--}" "${skipped:--}" "$secs" "$verdict"
    done
    echo "KNOWN: fail or error listed in $corpus/deviations/<peer>.toml; NEW: not listed (fails the"
    echo "job); ERROR is part of KNOWN+NEW; SHOULD: non-strict. Reports: $out (html/, *.json, *.xml, *.log). Took $(($(date +%s) - t_job)) s."
}
exit "$status"
