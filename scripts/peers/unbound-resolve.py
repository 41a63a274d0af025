#!/usr/bin/python3
"""unbound-resolve.py: Unbound as the resolver under test in the DNS server-role transcripts.

  unbound-resolve.py --root HOST:PORT [--port P] NAME [TYPE] [NAME [TYPE]]...
      the arguments of `wirecheck dns-resolve`: start a fresh Unbound whose only root server is
      HOST:PORT (wirecheck playing root, TLD and authoritative servers), ask it each question
      in turn as a stub resolver would (RD set), wait for each answer, stop Unbound
  unbound-resolve.py cases CORPUS
      one `ID<TAB>CLIENT-CMD` line per server-role DNS transcript whose target-cmd is
      `wirecheck dns-resolve ...`: that command with this script in its place

Why a network namespace. The transcripts' referrals carry glue pointing back at the harness
(`ns.test. A 127.0.0.1`), and wirecheck listens on an ephemeral port; Unbound sends every query
to a delegation's addresses on port 53 (hard-wired: UNBOUND_DNS_PORT in iterator/iter_delegpt.c),
and has no setting to change that. So Unbound runs in a network namespace of its own, whose
only interface is a private loopback, and this script relays UDP and TCP from that namespace's
127.0.0.1:53 to HOST:PORT in the host's namespace (each Unbound source port gets its own host
socket, so replies find their way back). Unbound cannot reach anything else at all: no network
but that loopback exists for it; its own resolver configuration is pinned to 127.0.0.1 too
(a private mount namespace, as scripts/peers/lib.sh does for every peer).

Configuration for the transcripts' assumptions (their `notes`): `stub-zone "."` pointing at the
relay (no priming query), `qname-minimisation: no`, `target-fetch-policy "0 0 0 0 0"` (no
opportunistic NS address lookups), the RFC 6761 local zone "test." off, a cold cache (one Unbound
per case). Needs root (namespaces), unbound, ip (iproute2), unshare and mount (util-linux).
Environment: WIRECHECK_UNBOUND_KEEP=1 keeps the working directory (config, log) for a look.
"""

import ctypes
import os
import pathlib
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

CLONE_NEWNET = 0x40000000
UNBOUND_PORT = 5300  # inside the private namespace: nothing else listens there
ANSWER_WAIT = 12.0  # seconds for Unbound to answer one stub question
TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28,
         "SRV": 33, "ANY": 255}
PIN_RESOLV = 'mount --bind "$0" /etc/resolv.conf && exec "$@"'


def say(msg):
    print(f"unbound-resolve: {msg}", file=sys.stderr, flush=True)


def qtype_of(tok):
    up = tok.upper()
    if up in TYPES:
        return TYPES[up]
    if up.startswith("TYPE") and up[4:].isdigit():
        return int(up[4:])
    return None


def parse_args(argv):
    root, questions, rest = None, [], []
    it = iter(argv)
    for a in it:
        if a == "--root":
            root = next(it, None)
        elif a.startswith("--root="):
            root = a.split("=", 1)[1]
        elif a == "--port":
            next(it, None)  # every server answers on the root's port here anyway
        else:
            rest.append(a)
    if not root or ":" not in root or not rest:
        raise SystemExit("usage: unbound-resolve.py --root HOST:PORT NAME [TYPE]...")
    host, port = root.rsplit(":", 1)
    i = 0
    while i < len(rest):
        name = rest[i]
        t = qtype_of(rest[i + 1]) if i + 1 < len(rest) else None
        questions.append((name, t or 1))
        i += 2 if t else 1
    return (host.strip("[]"), int(port)), questions


def query(ident, name, qtype):
    """A stub query: RD set, class IN, no EDNS."""
    wire = b""
    for label in name.rstrip(".").split("."):
        if label:
            wire += bytes([len(label)]) + label.encode()
    return struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + wire + b"\0" + struct.pack(">HH", qtype, 1)


def unbound_conf(d):
    return f"""server:
  interface: 127.0.0.1
  port: {UNBOUND_PORT}
  do-ip4: yes
  do-ip6: no
  username: ""
  chroot: ""
  directory: "{d}"
  pidfile: "{d}/unbound.pid"
  logfile: "{d}/unbound.log"
  use-syslog: no
  verbosity: 2
  log-queries: yes
  num-threads: 1
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  do-not-query-localhost: no
  qname-minimisation: no
  target-fetch-policy: "0 0 0 0 0"
  prefetch: no
  local-zone: "test." nodefault
stub-zone:
  name: "."
  stub-addr: 127.0.0.1@53
remote-control:
  control-enable: yes
  control-interface: "{d}/control.sock"
  control-use-cert: no
"""


class Relay:
    """UDP and TCP from the namespace's 127.0.0.1:53 to the harness (host namespace)."""

    def __init__(self, harness, ns_udp, ns_tcp):
        self.harness = harness
        self.sel = selectors.DefaultSelector()
        self.ns_udp = ns_udp
        self.flows = {}  # Unbound's (addr, port) -> host UDP socket
        self.sel.register(ns_udp, selectors.EVENT_READ, ("ns-udp", None))
        self.sel.register(ns_tcp, selectors.EVENT_READ, ("ns-tcp", None))

    def step(self, timeout):
        for key, _ in self.sel.select(timeout):
            kind, peer = key.data
            sock = key.fileobj
            try:
                if kind == "ns-udp":
                    data, src = sock.recvfrom(65535)
                    host = self.flows.get(src)
                    if host is None:
                        host = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                        host.connect(self.harness)
                        self.flows[src] = host
                        self.sel.register(host, selectors.EVENT_READ, ("host-udp", src))
                    host.send(data)
                elif kind == "host-udp":
                    self.ns_udp.sendto(sock.recv(65535), peer)
                elif kind == "ns-tcp":
                    conn, _ = sock.accept()
                    host = socket.create_connection(self.harness, timeout=5)
                    host.setblocking(False)
                    conn.setblocking(False)
                    self.sel.register(conn, selectors.EVENT_READ, ("pipe", host))
                    self.sel.register(host, selectors.EVENT_READ, ("pipe", conn))
                elif kind == "pipe":
                    data = sock.recv(65535)
                    if data:
                        peer.sendall(data)
                    else:
                        self.close_pipe(sock, peer)
            except OSError as e:
                if kind == "pipe":
                    self.close_pipe(sock, peer)
                elif kind != "ns-udp":
                    say(f"relay ({kind}): {e}")

    def close_pipe(self, a, b):
        for s in (a, b):
            try:
                self.sel.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()


def wait_listening(pid, port, deadline):
    """Unbound's UDP socket on `port` shows in its namespace's /proc/PID/net/udp."""
    want = f":{port:04X} "
    while time.monotonic() < deadline:
        try:
            if any(want in line.split(None, 3)[1] + " " for line in
                   pathlib.Path(f"/proc/{pid}/net/udp").read_text().splitlines()[1:]):
                return True
        except (OSError, IndexError):
            pass
        time.sleep(0.02)
    return False


# The root's NS set and its address, as a priming query would have put them in the cache
# (trust 10 is Unbound's rrset_trust_prim_noglue, what priming itself stores). Without it
# Unbound's first query is `. NS` to the stub, which the transcripts do not expect.
PRIMED_CACHE = """START_RRSET_CACHE
;rrset 86400 1 0 10 0
. 86400 IN NS ns.root.
;rrset 86400 1 0 10 0
ns.root. 86400 IN A 127.0.0.1
END_RRSET_CACHE
START_MSG_CACHE
END_MSG_CACHE
EOF
"""


def prime(d):
    """Fill Unbound's cache with the root NS set (see PRIMED_CACHE) through unbound-control."""
    out = subprocess.run(["unbound-control", "-c", f"{d}/unbound.conf", "load_cache"],
                         input=PRIMED_CACHE, capture_output=True, text=True)
    if out.returncode != 0 or "ok" not in out.stdout:
        raise SystemExit(f"unbound-control load_cache: {out.stdout}{out.stderr}")


def resolve(harness, questions):
    libc = ctypes.CDLL(None, use_errno=True)
    d = tempfile.mkdtemp(prefix="wirecheck-unbound-")
    unbound = None
    try:
        pathlib.Path(d, "unbound.conf").write_text(unbound_conf(d))
        pathlib.Path(d, "resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        host_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
        if libc.unshare(CLONE_NEWNET) != 0:
            raise SystemExit(f"unshare(CLONE_NEWNET): {os.strerror(ctypes.get_errno())} (needs root)")
        ip = shutil.which("ip") or "/usr/sbin/ip"
        subprocess.run([ip, "link", "set", "lo", "up"], check=True)
        ns_udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        ns_udp.bind(("127.0.0.1", 53))
        ns_tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ns_tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ns_tcp.bind(("127.0.0.1", 53))
        ns_tcp.listen(16)
        ns_tcp.setblocking(False)
        stub = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        stub.connect(("127.0.0.1", UNBOUND_PORT))
        check = subprocess.run(["unbound-checkconf", f"{d}/unbound.conf"], capture_output=True, text=True)
        if check.returncode != 0:
            raise SystemExit(f"unbound-checkconf: {check.stdout}{check.stderr}")
        unbound = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", PIN_RESOLV,
             f"{d}/resolv.conf", "unbound", "-d", "-c", f"{d}/unbound.conf"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(f"{d}/stderr.log", "w"))
        if libc.setns(host_ns, CLONE_NEWNET) != 0:
            raise SystemExit(f"setns back to the host namespace: {os.strerror(ctypes.get_errno())}")
        relay = Relay(harness, ns_udp, ns_tcp)
        if not wait_listening(unbound.pid, UNBOUND_PORT, time.monotonic() + 10):
            raise SystemExit(f"unbound did not start: {pathlib.Path(d, 'stderr.log').read_text()}")
        prime(d)
        relay.sel.register(stub, selectors.EVENT_READ, ("stub", None))
        for n, (name, qtype) in enumerate(questions):
            ident = (os.getpid() + n) & 0xFFFF
            stub.send(query(ident, name, qtype))
            deadline = time.monotonic() + ANSWER_WAIT
            answered = False
            while not answered and time.monotonic() < deadline:
                for key, _ in relay.sel.select(0):
                    if key.data[0] == "stub":
                        reply = stub.recv(65535)
                        if len(reply) >= 4 and struct.unpack(">H", reply[:2])[0] == ident:
                            answered = True
                            print(f"{name} type {qtype}: rcode {reply[3] & 0xF}", flush=True)
                if not answered:
                    relay.step(0.05)
            if not answered:
                say(f"no answer from Unbound for {name} type {qtype} in {ANSWER_WAIT} s")
        # let a last relayed exchange finish before Unbound goes
        end = time.monotonic() + 0.2
        while time.monotonic() < end:
            relay.step(0.05)
        return 0
    finally:
        if unbound is not None:
            unbound.terminate()
            try:
                unbound.wait(5)
            except subprocess.TimeoutExpired:
                unbound.kill()
        if os.environ.get("WIRECHECK_UNBOUND_KEEP"):
            say(f"kept {d}")
        else:
            shutil.rmtree(d, ignore_errors=True)


def cases(corpus):
    import shlex
    import tomllib
    me = os.path.abspath(__file__)
    for path in sorted(pathlib.Path(corpus, "dns").rglob("*.toml")):
        try:
            meta = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        cmd = meta.get("target-cmd") or ""
        if meta.get("role") != "server" or not cmd.startswith("wirecheck dns-resolve "):
            continue
        print(f"{meta['id']}\t{shlex.quote(sys.executable)} {shlex.quote(me)} {cmd[len('wirecheck dns-resolve '):]}")
    return 0


def main(argv):
    if argv[:1] == ["cases"] and len(argv) == 2:
        return cases(argv[1])
    harness, questions = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return resolve(harness, questions)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
