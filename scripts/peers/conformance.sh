#!/usr/bin/env bash
# scripts/peers/conformance.sh [--out DIR] [--no-install] [PEER...] [-- RUN-ARGS...]
#
# The real-peer job: for each peer (default: postfix dovecot vsftpd nsd knot bind9 unbound),
# install it when it is missing, start it with scripts/peers.sh, run the corpus against each of
# its services with `wirecheck run PROTOCOL --target ADDR --insecure ...`, stop it, and print a
# summary table. When postfix and dovecot are both on the list, the scenarios/ transcripts (mail
# sent by SMTP and read back by POP3 and IMAP) run against the two together, postfix delivering
# into dovecot's maildir.
#
# A case that ends `fail` or `error` is expected when transcripts/deviations/<peer>.toml lists
# it (see verdict.py); any other one fails the job. Exit status: 0 no unexpected failure, 1 an
# unexpected failure, or a peer that could not be installed, started or run against.
#
# Out: DIR/<peer>-<protocol>.json, .xml (JUnit), .log (the run's output) and html/<peer>-<protocol>/
# (default DIR: target/peers-conformance). RUN-ARGS go to every `wirecheck run` (a filter,
# --skip ID, --timeout 2s ...). The wirecheck binary is $WIRECHECK when set, else it is built
# with cargo (--release) and taken from ${CARGO_TARGET_DIR:-target}/release/wirecheck.
# WIRECHECK_PEERS_PORT_OFFSET moves every peer's ports (e.g. 1000 when the defaults are taken).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PEERS=$ROOT/scripts/peers.sh
DEFAULT_PEERS=(postfix dovecot vsftpd nsd knot bind9 unbound)

say() { printf 'conformance: %s\n' "$*" >&2; }
die() { printf 'conformance: error: %s\n' "$*" >&2; exit 1; }
python() {
    if [ -x /usr/bin/python3 ]; then /usr/bin/python3 "$@"; else python3 "$@"; fi
}

out=$ROOT/target/peers-conformance
install=1
peers=()
run_args=()
while [ $# -gt 0 ]; do
    case $1 in
        --out) out=${2:?--out needs a directory}; shift 2 ;;
        --no-install) install=0; shift ;;
        --) shift; run_args=("$@"); break ;;
        -h | --help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) peers+=("$1"); shift ;;
    esac
done
[ ${#peers[@]} -gt 0 ] || peers=("${DEFAULT_PEERS[@]}")
mkdir -p "$out"
out=$(cd "$out" && pwd)
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
# proftpd): that one is installed just before its turn, which removes the first.
ensure_installed() {
    local p f batch=()
    declare -A family_taken=()
    for p in "$@"; do
        "$PEERS" installed "$p" && continue
        [ "$install" = 1 ] || continue
        case $p in
            vsftpd | proftpd) f=ftp ;;
            postfix) f=mta ;;
            dovecot) f=imap ;;
            *) f=$p ;;
        esac
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

# start PEER: start it (env passes through), its SERVICE=ADDR lines into the array `services`
start() {
    local lines
    lines=$("$PEERS" start "$1") || return 1
    started+=("$1")
    mapfile -t services <<< "$lines"
}

rows=()
status=0

# row PEER PROTOCOL TARGET SECONDS VERDICT [COUNTS]
row() {
    rows+=("$(printf '%s\t%s\t%s\t%s\t%s\t%s' "$1" "$2" "$3" "$4" "$5" "${6:-}")")
}

# run_corpus NAME PROTOCOL TARGET DEVIATION-FILES... -- EXTRA-ARGS...
run_corpus() {
    local name=$1 proto=$2 target=$3 devs=() extra=() t0 rc=0 counts vrc=0 secs base
    shift 3
    while [ $# -gt 0 ] && [ "$1" != -- ]; do devs+=("$1"); shift; done
    [ $# -eq 0 ] || { shift; extra=("$@"); }
    base=$out/$name-$proto
    rm -rf "$base.json" "$base.xml" "$base.log" "$out/html/$name-$proto"
    say "$name: wirecheck run $proto --target $target"
    t0=$(date +%s)
    "${wirecheck[@]}" run "$proto" --target "$target" --insecure --corpus transcripts --name "$name" \
        --json "$base.json" --junit "$base.xml" --report "$out/html/$name-$proto" \
        "${extra[@]}" "${run_args[@]}" > "$base.log" 2>&1 || rc=$?
    secs=$(($(date +%s) - t0))
    if [ ! -s "$base.json" ]; then
        tail -n 20 "$base.log" >&2
        say "$name $proto: the run could not be done (exit $rc), see $base.log"
        row "$name" "$proto" "$target" "$secs" "RUN FAILED"
        status=1
        return
    fi
    counts=$(python "$HERE/verdict.py" "$base.json" "${devs[@]}") || vrc=$?
    case $vrc in
        0) row "$name" "$proto" "$target" "$secs" ok "$counts" ;;
        1) row "$name" "$proto" "$target" "$secs" UNEXPECTED "$counts"; status=1 ;;
        *) row "$name" "$proto" "$target" "$secs" "BAD REPORT" "$counts"; status=1 ;;
    esac
}

# fixture flags per protocol: what every peer here provides (docs/transcripts.md "Fixtures")
fixture_args() {
    case $1 in
        smtp | ftp) echo --tls ;;
        imap | pop3) echo --tls --mailbox-count 2 ;;
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
        continue
    fi
    for line in "${services[@]}"; do
        proto=${line%%=*}
        # shellcheck disable=SC2046
        run_corpus "$peer" "$proto" "${line#*=}" "transcripts/deviations/$peer.toml" -- $(fixture_args "$proto")
    done
    stop_started
done

# scenarios: postfix and dovecot together, when both ran and the corpus has scenarios
has_peer() { local p; for p in "${peers[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }
if has_peer postfix && has_peer dovecot && [ -n "$(find transcripts/scenarios -name '*.toml' 2> /dev/null | head -n 1)" ]; then
    if start dovecot; then
        mail_services=("${services[@]}")
        # postfix delivers alice's mail into dovecot's maildir
        export WIRECHECK_POSTFIX_MAILDIR
        WIRECHECK_POSTFIX_MAILDIR=$(cd "${WIRECHECK_PEERS_DIR:-/tmp/wirecheck-peers}/dovecot" && pwd)/mail/alice/Maildir
        if start postfix; then
            mail_services+=("${services[@]}")
            smtp=""
            service_args=()
            for line in "${mail_services[@]}"; do
                service_args+=(--service "$line")
                [ "${line%%=*}" = smtp ] && smtp=${line#*=}
            done
            run_corpus postfix+dovecot scenarios "$smtp" \
                transcripts/deviations/postfix.toml transcripts/deviations/dovecot.toml -- \
                "${service_args[@]}" --tls --mailbox-count 2
        else
            row postfix+dovecot scenarios - 0 "START FAILED"
            status=1
        fi
    else
        row postfix+dovecot scenarios - 0 "START FAILED"
        status=1
    fi
    stop_started
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
    echo "KNOWN: fail or error listed in transcripts/deviations/<peer>.toml; NEW: not listed (fails the"
    echo "job); ERROR is part of KNOWN+NEW; SHOULD: non-strict. Reports: $out (html/, *.json, *.xml, *.log). Took $(($(date +%s) - t_job)) s."
}
exit "$status"
