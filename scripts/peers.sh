#!/usr/bin/env bash
# scripts/peers.sh: install, start and stop the real servers (from Debian's packages) that the
# corpus is checked against. Every peer runs on 127.0.0.1 only, in its own directory under
# ${WIRECHECK_PEERS_DIR:-/tmp/wirecheck-peers}, with its own DNS pinned to loopback.
# See scripts/peers/README.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# the daemons and their tools live in sbin, which a non-login shell may lack
PATH=$PATH:/usr/sbin:/sbin
# shellcheck source=peers/lib.sh
. "$HERE/peers/lib.sh"
for _peer in "${PEER_NAMES[@]}"; do
    # shellcheck source=/dev/null
    . "$HERE/peers/$_peer.sh"
done
unset _peer

usage() {
    cat >&2 << EOF
usage: scripts/peers.sh COMMAND ...
  install NAME...        apt-get install the peers' packages (root)
  start NAME [PORT...]   start NAME on 127.0.0.1, wait until it is ready, print SERVICE=HOST:PORT
  stop NAME|all          stop a peer (SIGTERM, SIGKILL after 10 s)
  status                 every peer: installed, running, addresses
  addr NAME              print the SERVICE=HOST:PORT lines of a running peer
  installed NAME         exit 0 when NAME's programs are all present
peers (default ports): $(for p in "${PEER_NAMES[@]}"; do printf '%s (%s) ' "$p" "${PEER_SERVICES[$p]}"; done)
environment: WIRECHECK_PEERS_DIR (default /tmp/wirecheck-peers),
             WIRECHECK_PEERS_PORT_OFFSET (added to every default port, default 0)
EOF
    exit 2
}

known_peer() {
    local p
    for p in "${PEER_NAMES[@]}"; do [ "$p" = "$1" ] && return 0; done
    return 1
}

need_peer() { known_peer "$1" || die "unknown peer '$1' (known: ${PEER_NAMES[*]})"; }

# installed NAME: every program / file the peer needs is there
installed() {
    local n
    for n in ${PEER_NEEDS[$1]}; do
        case $n in
            /*) [ -e "$n" ] || return 1 ;;
            *) command -v "$n" > /dev/null 2>&1 || [ -x "/usr/sbin/$n" ] || return 1 ;;
        esac
    done
}

# ---------------------------------------------------------------- install

# tools the launcher itself uses: program -> package
declare -A TOOL_PACKAGE=([ss]=iproute2 [pgrep]=procps [openssl]=openssl [unshare]=util-linux [setsid]=util-linux)

cmd_install() {
    [ $# -gt 0 ] || usage
    local p f pkgs=()
    declare -A family_of=()
    for p in "$@"; do
        need_peer "$p"
        f=${PEER_FAMILY[$p]}
        if [ -n "$f" ]; then
            [ -z "${family_of[$f]:-}" ] || [ "${family_of[$f]}" = "$p" ] ||
                die "$p and ${family_of[$f]} exclude each other (Debian lets only one '$f' server be installed): install one per call"
            family_of[$f]=$p
        fi
        # shellcheck disable=SC2206
        pkgs+=(${PEER_PACKAGES[$p]})
    done
    local t
    for t in "${!TOOL_PACKAGE[@]}"; do
        command -v "$t" > /dev/null 2>&1 || pkgs+=("${TOOL_PACKAGE[$t]}")
    done
    [ -x /usr/bin/python3 ] || command -v python3 > /dev/null 2>&1 || pkgs+=(python3)
    [ "$(id -u)" = 0 ] || die "install needs root (apt-get)"
    export DEBIAN_FRONTEND=noninteractive

    local updated=0
    if ! apt_knows "${pkgs[@]}"; then
        apt_update
        updated=1
    fi
    warn_removals "${pkgs[@]}"
    with_no_daemon_start apt_install "${pkgs[@]}" || {
        [ "$updated" = 0 ] || die "apt-get install ${pkgs[*]} failed"
        say "install failed with the current package lists: apt-get update, then once more"
        apt_update
        with_no_daemon_start apt_install "${pkgs[@]}" || die "apt-get install ${pkgs[*]} failed"
    }
    for p in "$@"; do
        installed "$p" || die "$p: packages installed but ${PEER_NEEDS[$p]} still missing"
    done
    say "installed: $*"
}

# apt_knows PKG...: apt has a candidate version for every package (no update needed)
apt_knows() {
    local p policy
    for p in "$@"; do
        policy=$(apt-cache policy "$p" 2> /dev/null) || return 1
        grep -q 'Candidate: [^(]' <<< "$policy" || return 1
    done
}

apt_update() {
    say "apt-get update"
    apt-get -o DPkg::Lock::Timeout=600 update -qq > /dev/null || die "apt-get update failed"
}

apt_install() {
    local t0
    t0=$(now)
    say "apt-get install ${*}"
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" > /dev/null || return 1
    say "installed in $(elapsed_since "$t0") s"
}

# warn_removals PKG...: say which installed packages apt removes to install these (one server of
# each family: postfix / exim4 / opensmtpd, dovecot / courier / cyrus, vsftpd / proftpd / pure-ftpd)
warn_removals() {
    local removed
    removed=$(apt-get -s install --no-install-recommends "$@" 2> /dev/null | awk '$1 == "Remv" { print $2 }' | tr '\n' ' ')
    if [ -n "$removed" ]; then
        say "WARNING: installing ${*} makes apt REMOVE: ${removed}(packages of one family exclude each other)"
    fi
}

# with_no_daemon_start CMD...: run CMD with a policy-rc.d that forbids maintainer scripts to start
# services (the packages would start their daemons on :25, :143, :53...). Leaves an existing
# policy-rc.d alone.
with_no_daemon_start() {
    local policy=/usr/sbin/policy-rc.d rc=0
    if [ -e "$policy" ]; then
        "$@" || rc=$?
        return "$rc"
    fi
    printf '#!/bin/sh\n# written by wirecheck scripts/peers.sh during apt-get install\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    "$@" || rc=$?
    rm -f "$policy"
    return "$rc"
}

# ---------------------------------------------------------------- start

cmd_start() {
    [ $# -ge 1 ] || usage
    local name=$1
    shift
    need_peer "$name"
    [ "$(id -u)" = 0 ] || die "start needs root (a private mount namespace, files owned by the daemons' users)"
    installed "$name" || die "$name is not installed (needs ${PEER_NEEDS[$name]}): scripts/peers.sh install $name"
    local services=() ports=() s i=0 offset=${WIRECHECK_PEERS_PORT_OFFSET:-0}
    is_port "$((1024 + offset))" || die "bad WIRECHECK_PEERS_PORT_OFFSET '$offset'"
    read -r -a services <<< "${PEER_SERVICES[$name]}"
    [ $# -le ${#services[@]} ] || die "$name takes at most ${#services[@]} port(s): ${PEER_SERVICES[$name]}"
    for s in "${services[@]}"; do
        if [ $i -lt $# ]; then
            ports+=("${@:$((i + 1)):1}")
        else
            ports+=($((${s#*=} + offset)))
        fi
        i=$((i + 1))
    done
    for i in "${!ports[@]}"; do
        is_port "${ports[$i]}" || die "port '${ports[$i]}' is not a number from 1024 to 65535"
        port_busy tcp "${ports[$i]}" && die "port ${ports[$i]} (tcp) is in use already: give other ports (scripts/peers.sh start $name PORT...)"
        port_busy udp "${ports[$i]}" && [ "${services[$i]%%=*}" = dns ] && die "port ${ports[$i]} (udp) is in use already"
        for s in "${ports[@]:$((i + 1))}"; do
            [ "$s" != "${ports[$i]}" ] || die "port $s given twice"
        done
    done

    local t0
    t0=$(now)
    mkdir -p "$PEERS_DIR"
    fresh_dir "$name"
    # a start that fails half-way stops what it started
    SPAWNED_PID=""
    trap 'abandon_start '"$name" EXIT
    "start_$name" "${ports[@]}"
    running_pid "$name" > /dev/null || die "$name did not stay up (see $D/log/)"
    trap - EXIT
    : > "$D/services"
    for i in "${!services[@]}"; do
        printf '%s=%s:%s\n' "${services[$i]%%=*}" "$LOOPBACK" "${ports[$i]}" >> "$D/services"
    done
    local cert=""
    [ -e "$D/etc/cert.pem" ] && cert=", TLS certificate $D/etc/cert.pem"
    say "$name ready in $(elapsed_since "$t0") s: pid $(running_pid "$name"), directory $D$cert"
    cat "$D/services"
}

abandon_start() {
    say "$1 did not start: stopping what was started"
    stop_peer "$1" || true
    if [ -n "${SPAWNED_PID:-}" ] && kill -0 "$SPAWNED_PID" 2> /dev/null; then
        kill -KILL "$SPAWNED_PID" 2> /dev/null || true
    fi
}

# ---------------------------------------------------------------- stop, status

# group_members PGID: pids of the processes in that process group
group_members() { pgrep -g "$1" 2> /dev/null || true; }

stop_peer() {
    local name=$1 dir pid pgrp i=0 left
    dir=$(peer_dir "$name")
    if ! pid=$(running_pid "$name"); then
        run_cleanup "$dir"
        rm -f "$dir/pid"
        return 1
    fi
    pgrp=$(awk '{ sub(/^.*\) /, ""); print $3 }' "/proc/$pid/stat")
    kill -TERM "$pid" 2> /dev/null || true
    while running_pid "$name" > /dev/null; do
        i=$((i + 1))
        if [ $i -ge 100 ]; then
            say "$name (pid $pid) ignored SIGTERM for 10 s: SIGKILL"
            kill -KILL "$pid" 2> /dev/null || true
            sleep 0.2
            break
        fi
        sleep 0.1
    done
    # workers the daemon started in its own process group (a session made by setsid, or by the
    # daemon itself) and that outlived it
    if [ "$pgrp" = "$pid" ]; then
        left=$(group_members "$pgrp")
        if [ -n "$left" ]; then
            # shellcheck disable=SC2086
            kill -TERM $left 2> /dev/null || true
            sleep 0.5
            left=$(group_members "$pgrp")
            # shellcheck disable=SC2086
            [ -z "$left" ] || kill -KILL $left 2> /dev/null || true
        fi
    fi
    run_cleanup "$dir"
    rm -f "$dir/pid"
    say "$name stopped (pid $pid) after $(awk -v i=$i 'BEGIN { printf "%.1f", i / 10 }') s"
}

cmd_stop() {
    [ $# -eq 1 ] || usage
    local p
    if [ "$1" = all ]; then
        for p in "${PEER_NAMES[@]}"; do
            stop_peer "$p" || true
        done
        return 0
    fi
    need_peer "$1"
    stop_peer "$1" || say "$1 is not running"
}

cmd_status() {
    local p pid inst addrs
    printf '%-8s %-9s %-8s %s\n' PEER INSTALLED PID SERVICES
    for p in "${PEER_NAMES[@]}"; do
        inst=no
        installed "$p" && inst=yes
        addrs="-"
        if pid=$(running_pid "$p"); then
            addrs=$(tr '\n' ' ' < "$(peer_dir "$p")/services" 2> /dev/null || true)
        else
            pid="-"
        fi
        printf '%-8s %-9s %-8s %s\n' "$p" "$inst" "$pid" "$addrs"
    done
    echo "directory: $PEERS_DIR"
}

cmd_addr() {
    [ $# -eq 1 ] || usage
    need_peer "$1"
    running_pid "$1" > /dev/null || die "$1 is not running"
    cat "$(peer_dir "$1")/services"
}

[ $# -ge 1 ] || usage
command=$1
shift
case $command in
    install) cmd_install "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status ;;
    addr) cmd_addr "$@" ;;
    installed)
        [ $# -eq 1 ] || usage
        need_peer "$1"
        installed "$1"
        ;;
    -h | --help | help) usage ;;
    *) usage ;;
esac
