# scripts/peers/unbound.sh: Unbound on 127.0.0.1:PORT (default 5304), UDP and TCP, sourced by
# peers.sh.
#
# Unbound is a resolver. Here it answers example.test. from an auth-zone (answers carry AA) and
# REFUSES every other name (local-zone "." refuse), and do-not-query-address blocks every
# upstream address, so it never reaches the network. No AXFR.
#
# WIRECHECK_UNBOUND_UPSTREAM=127.0.0.1@5301 makes it a forwarder to that loopback DNS peer
# instead (every name, example.test. included). Unbound's built-in RFC 6761 local-zone "test."
# would answer NXDOMAIN by itself, so that mode sets it nodefault.
#
# As the resolver under test of the server-role DNS cases Unbound is not started here but once
# per case by scripts/peers/unbound-resolve.py (its own network namespace, see there).

PEER_PACKAGES[unbound]="unbound"
PEER_FAMILY[unbound]=""
PEER_NEEDS[unbound]="unbound unbound-checkconf unbound-control"
PEER_SERVICES[unbound]="dns=5304"

start_unbound() {
    local port=$1 upstream=${WIRECHECK_UNBOUND_UPSTREAM:-} zones
    fixture_zone "$D/$FIXTURE_DOMAIN.zone"
    if [ -n "$upstream" ]; then
        case $upstream in
            127.*) ;;
            *) die "WIRECHECK_UNBOUND_UPSTREAM must be a loopback address (127.x.x.x[@port])" ;;
        esac
        zones="  do-not-query-localhost: no
  local-zone: \"test.\" nodefault
forward-zone:
  name: \".\"
  forward-addr: $upstream"
    else
        zones="  do-not-query-address: 0.0.0.0/0
  do-not-query-address: ::/0
  local-zone: \".\" refuse
  local-zone: \"$FIXTURE_DOMAIN.\" transparent
auth-zone:
  name: \"$FIXTURE_DOMAIN.\"
  zonefile: \"$D/$FIXTURE_DOMAIN.zone\"
  for-downstream: yes
  for-upstream: yes
  fallback-enabled: no"
    fi
    cat > "$D/unbound.conf" << CONF
server:
  interface: $LOOPBACK
  port: $port
  do-ip4: yes
  do-ip6: no
  username: ""
  chroot: ""
  directory: "$D"
  pidfile: "$D/unbound.pid"
  logfile: "$D/log/unbound.log"
  use-syslog: no
  verbosity: 1
  log-queries: yes
  num-threads: 1
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  identity: "wirecheck-peer unbound"
  hide-identity: no
  hide-version: no
  prefetch: no
$zones
remote-control:
  control-enable: no
CONF
    checked check.log "unbound-checkconf rejected $D/unbound.conf" unbound-checkconf "$D/unbound.conf"
    serve_dns "$port" unbound -d -c "$D/unbound.conf"
}
