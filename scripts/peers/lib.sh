# scripts/peers/lib.sh: helpers shared by scripts/peers.sh and the per-peer files (sourced, bash).
#
# Every peer lives in its own directory $PEERS_DIR/NAME, made from scratch at each start, and
# listens on 127.0.0.1 only. The fixture is the same for every peer: user alice / secret, domain
# example.test, two messages in alice's maildrop, the example.test. zone (loopback addresses
# only), and a small FTP tree.

PEERS_DIR=${WIRECHECK_PEERS_DIR:-/tmp/wirecheck-peers}
FIXTURE_USER=alice
FIXTURE_PASS=secret
FIXTURE_DOMAIN=example.test
LOOPBACK=127.0.0.1

# The peers this launcher knows, in the order `status` lists them.
PEER_NAMES=(postfix dovecot vsftpd proftpd nsd knot bind9 unbound)

# What each peer file declares (keyed by peer name):
#   PEER_PACKAGES  Debian packages to install
#   PEER_FAMILY    a family of mutually exclusive packages (apt removes the others), or empty
#   PEER_NEEDS     programs (or absolute file paths) that must exist for `start`
#   PEER_SERVICES  "service=default-port ...", in the order start's PORT arguments take them;
#                  the service names are wirecheck's protocol names
declare -A PEER_PACKAGES PEER_FAMILY PEER_NEEDS PEER_SERVICES

# Families of Debian packages that conflict with each other (`Conflicts:` on a virtual package).
# The members listed here that this launcher never installs are named so we can warn about them.
declare -A FAMILY_MEMBERS=(
    [mta]="postfix exim4-daemon-light exim4-daemon-heavy opensmtpd"
    [imap]="dovecot-core courier-imap courier-pop cyrus-imapd cyrus-pop3d"
    [ftp]="vsftpd proftpd-core pure-ftpd"
)

say() { printf 'peers: %s\n' "$*" >&2; }
die() { printf 'peers: error: %s\n' "$*" >&2; exit 1; }

python() {
    if [ -x /usr/bin/python3 ]; then /usr/bin/python3 "$@"; else python3 "$@"; fi
}

now() { date +%s.%N; }
elapsed_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

is_port() {
    case $1 in '' | *[!0-9]*) return 1 ;; esac
    [ "$1" -ge 1024 ] && [ "$1" -le 65535 ]
}

# port_busy tcp|udp PORT: something already listens on PORT (any local address)
port_busy() {
    local flag=-Hltn
    [ "$1" = udp ] && flag=-Hlun
    [ -n "$(ss $flag "sport = :$2" 2> /dev/null)" ]
}

# wait_until SECONDS CMD...: run CMD every 0.1 s until it succeeds; fail after SECONDS
wait_until() {
    local max=$1 i=0
    shift
    while ! "$@"; do
        i=$((i + 1))
        [ "$i" -lt $((max * 10)) ] || return 1
        sleep 0.1
    done
}

file_ready() { [ -s "$1" ]; }

# ---------------------------------------------------------------- the peer's directory and pid

# peer_dir NAME
peer_dir() { printf '%s/%s\n' "$PEERS_DIR" "$1"; }

# start_time PID: the process's start time in clock ticks since boot (/proc/PID/stat field 22),
# recorded with the pid so that a reused pid is never mistaken for the peer.
start_time() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    # the command name (field 2) may hold spaces: cut after its closing parenthesis
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    printf '%s\n' "${20}"
}

# record_pid PID: the peer's main process, written to $D/pid as "PID STARTTIME"
record_pid() {
    local t
    t=$(start_time "$1") || die "process $1 is gone right after starting (see $D/log/)"
    printf '%s %s\n' "$1" "$t" > "$D/pid"
}

# running_pid NAME: print the pid of NAME's main process when it is alive and still the one
# that was started (same start time); fail otherwise
running_pid() {
    local pf pid t state
    pf=$(peer_dir "$1")/pid
    [ -s "$pf" ] || return 1
    read -r pid t < "$pf" || return 1
    case $pid in '' | *[!0-9]*) return 1 ;; esac
    [ "$(start_time "$pid" 2>/dev/null)" = "$t" ] || return 1
    state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ "$state" != Z ] || return 1
    printf '%s\n' "$pid"
}

# fresh_dir NAME: (re)create $D for a new start; refuses while NAME runs
fresh_dir() {
    D=$(peer_dir "$1")
    if pid=$(running_pid "$1"); then
        die "$1 is already running (pid $pid): scripts/peers.sh stop $1"
    fi
    run_cleanup "$D"
    rm -rf "$D"
    mkdir -p "$D/log"
    chmod 755 "$PEERS_DIR" "$D"
    # the daemon's private /etc/resolv.conf (see pinned)
    printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\nlookup file bind\n' > "$D/resolv.conf"
}

# note_cleanup PATH: a file outside $D that this start created; removed at stop
note_cleanup() { printf '%s\n' "$1" >> "$D/cleanup"; }

run_cleanup() {
    local f
    [ -s "$1/cleanup" ] || return 0
    while IFS= read -r f; do
        [ -n "$f" ] && rm -f -- "$f"
    done < "$1/cleanup"
    rm -f "$1/cleanup"
}

# ---------------------------------------------------------------- starting daemons

# pinned CMD...: run CMD in a private mount namespace in which $D/resolv.conf is mounted over
# /etc/resolv.conf, so every DNS lookup the daemon makes (reverse lookups of clients, MX lookups)
# goes to 127.0.0.1 and never to the machine's resolver. The network namespace is the host's, so
# the daemon still listens on the real loopback. unshare and sh exec: the pid stays CMD's.
PIN_RESOLV='mount --bind "$0" /etc/resolv.conf && exec "$@"'
pinned() {
    unshare --mount --propagation private sh -c "$PIN_RESOLV" "$D/resolv.conf" "$@"
}

# spawn CMD...: start a daemon that stays in the foreground, in a session of its own (setsid:
# no signal from the caller's terminal or job reaches it), DNS pinned, its output in
# $D/log/stderr.log. Sets SPAWNED_PID. A background job of a non-interactive script is never a
# process group leader, so setsid does not fork and SPAWNED_PID is the daemon's own pid.
spawn() {
    setsid unshare --mount --propagation private sh -c "$PIN_RESOLV" "$D/resolv.conf" "$@" \
        > "$D/log/stderr.log" 2>&1 < /dev/null &
    SPAWNED_PID=$!
}

# daemonize CMD...: run a command that puts the daemon into the background itself (postfix,
# dovecot), DNS pinned; its output goes to $D/log/start.log
daemonize() {
    pinned "$@" > "$D/log/start.log" 2>&1 < /dev/null || {
        cat "$D/log/start.log" >&2
        return 1
    }
}

# checked LOG WHAT CMD...: run a configuration check with its output in $D/log/LOG; when it
# fails, show the output and die with WHAT
checked() {
    local log=$D/log/$1 what=$2
    shift 2
    "$@" > "$log" 2>&1 || {
        cat "$log" >&2
        die "$what"
    }
}

# serve_greeting PORT PATTERN CMD...: spawn a foreground daemon, wait for its greeting on PORT,
# record it as the peer
serve_greeting() {
    local port=$1 pattern=$2
    shift 2
    spawn "$@"
    record_pid "$SPAWNED_PID"
    await_greeting "$port" "$pattern"
}

# serve_dns PORT CMD...: spawn a foreground DNS server, wait until it answers for the fixture
# zone on PORT over UDP and TCP, record it as the peer
serve_dns() {
    local port=$1
    shift
    spawn "$@"
    record_pid "$SPAWNED_PID"
    await_dns "$port"
}

# ---------------------------------------------------------------- readiness probes

# probe_greeting PORT PATTERN: connect to 127.0.0.1:PORT, read the first line, succeed when the
# Python regular expression PATTERN matches it at the start
probe_greeting() {
    python - "$1" "$2" <<'EOF' 2> /dev/null
import re, socket, sys
port, pattern = int(sys.argv[1]), sys.argv[2]
with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
    line = b""
    while not line.endswith(b"\n") and len(line) < 4096:
        chunk = s.recv(4096)
        if not chunk:
            break
        line += chunk
sys.exit(0 if re.match(pattern, line.decode("latin-1")) else 1)
EOF
}

# probe_dns PORT: an SOA query for the fixture zone over UDP and over TCP must both come back
# NOERROR with an answer (the zone is loaded, both transports are up)
probe_dns() {
    python - "$1" "$FIXTURE_DOMAIN" <<'EOF' 2> /dev/null
import socket, struct, sys
port, zone = int(sys.argv[1]), sys.argv[2]
qname = b"".join(bytes([len(p)]) + p.encode() for p in zone.split(".") if p) + b"\0"
# RD set: a resolver (unbound as a forwarder) answers only from its cache without it
query = struct.pack(">HHHHHH", 0x5eed, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 6, 1)

def good(reply):
    if len(reply) < 12:
        return False
    ident, flags, _, ancount = struct.unpack(">HHHH", reply[:8])
    return ident == 0x5eed and flags & 0x8000 and flags & 0xF == 0 and ancount >= 1

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
    u.settimeout(1)
    u.sendto(query, ("127.0.0.1", port))
    ok_udp = good(u.recv(4096))
with socket.create_connection(("127.0.0.1", port), timeout=1) as t:
    t.sendall(struct.pack(">H", len(query)) + query)
    data = b""
    while len(data) < 2 or len(data) < 2 + struct.unpack(">H", data[:2])[0]:
        chunk = t.recv(4096)
        if not chunk:
            break
        data += chunk
    ok_tcp = good(data[2:])
sys.exit(0 if ok_udp and ok_tcp else 1)
EOF
}

# still_up: the process recorded in $D/pid is alive (see record_pid)
still_up() {
    local pid t
    read -r pid t < "$D/pid" 2> /dev/null || return 1
    [ "$(start_time "$pid" 2> /dev/null)" = "$t" ] &&
        [ "$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$pid/stat" 2> /dev/null)" != Z ]
}

# await WHAT PROBE...: run PROBE until it succeeds (20 s at most) while the recorded process
# lives; else show the peer's logs and die saying WHAT was missing
await() {
    local what=$1 deadline=$((SECONDS + 20))
    shift
    until "$@"; do
        still_up || what="$what: the server exited"
        if ! still_up || [ $SECONDS -ge $deadline ]; then
            tail -n 20 "$D"/log/*.log >&2 2> /dev/null || true
            die "$what (logs in $D/log)"
        fi
        sleep 0.1
    done
}

# await_greeting PORT PATTERN: wait for the server's greeting on PORT
await_greeting() { await "no greeting matching /$2/ on 127.0.0.1:$1" probe_greeting "$1" "$2"; }

# await_dns PORT: wait until the server answers for the fixture zone on PORT, UDP and TCP
await_dns() { await "no answer for $FIXTURE_DOMAIN SOA on 127.0.0.1:$1 (UDP and TCP)" probe_dns "$1"; }

# ---------------------------------------------------------------- the fixture

# make_cert DIR: a self-signed certificate for localhost / 127.0.0.1 (DIR/cert.pem, DIR/key.pem)
make_cert() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$1/key.pem" -out "$1/cert.pem" > /dev/null 2>&1 || die "openssl could not make a certificate"
    chmod 644 "$1/cert.pem"
    chmod 600 "$1/key.pem"
}

# fixture_message N: test message N (1 or 2) on stdout
fixture_message() {
    local day=Mon
    [ "$1" = 2 ] && day=Tue
    cat << EOF
Return-Path: <bob@$FIXTURE_DOMAIN>
From: Bob <bob@$FIXTURE_DOMAIN>
To: Alice <$FIXTURE_USER@$FIXTURE_DOMAIN>
Subject: Test message $1
Date: $day, 0$1 Jan 2024 10:00:00 +0000
Message-ID: <test$1@$FIXTURE_DOMAIN>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello Alice, this is test message number $1.
Line two of message $1.
EOF
}

# fixture_maildir DIR: a Maildir holding the two test messages, unread (in new/)
fixture_maildir() {
    mkdir -p "$1/new" "$1/cur" "$1/tmp"
    fixture_message 1 > "$1/new/1704103200.M1P1.localhost"
    fixture_message 2 > "$1/new/1704189600.M2P1.localhost"
}

# fixture_zone FILE: the example.test. zone. Every address in it is loopback on purpose: a
# server that acts on zone data (NOTIFY to the NS hosts, mail to the MX) stays on this machine.
fixture_zone() {
    cat > "$1" << EOF
\$ORIGIN $FIXTURE_DOMAIN.
\$TTL 3600
@       IN SOA  ns1.$FIXTURE_DOMAIN. hostmaster.$FIXTURE_DOMAIN. ( 2024010101 3600 900 604800 300 )
@       IN NS   ns1.$FIXTURE_DOMAIN.
@       IN NS   ns2.$FIXTURE_DOMAIN.
@       IN A    127.0.0.10
@       IN AAAA ::1
@       IN MX   10 mail.$FIXTURE_DOMAIN.
@       IN MX   20 mail2.$FIXTURE_DOMAIN.
@       IN TXT  "v=spf1 -all"
ns1     IN A    127.0.0.53
ns2     IN A    127.0.0.54
mail    IN A    127.0.0.25
mail    IN AAAA ::1
mail2   IN A    127.0.0.26
www     IN CNAME @
ftp     IN CNAME www
txt     IN TXT  "hello world" "second string"
EOF
}

# fixture_ftp_tree DIR: hello.txt, pub/{64k.bin,crlf.txt,sub/nested.txt}, upload/ (empty)
fixture_ftp_tree() {
    mkdir -p "$1/pub/sub" "$1/upload"
    echo "hello from the ftp peer" > "$1/hello.txt"
    printf 'line1\r\nline2\r\n' > "$1/pub/crlf.txt"
    head -c 65536 /dev/zero | tr '\0' 'x' > "$1/pub/64k.bin"
    echo "nested" > "$1/pub/sub/nested.txt"
}
