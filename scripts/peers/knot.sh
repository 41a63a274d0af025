# scripts/peers/knot.sh: Knot DNS (knotd), authoritative for example.test. on
# 127.0.0.1:PORT (default 5302), UDP and TCP, sourced by peers.sh.
#
# AXFR to 127.0.0.1; the control socket is $D/run/knot.sock (knotc -c $D/knot.conf zone-status).
# Runs in the foreground as root; every file is under $D. Knot leaves NS out of the authority
# section of positive answers.

PEER_PACKAGES[knot]="knot"
PEER_FAMILY[knot]=""
PEER_NEEDS[knot]="knotd knotc"
PEER_SERVICES[knot]="dns=5302"

start_knot() {
    local port=$1
    mkdir -p "$D/zones" "$D/run" "$D/db"
    fixture_zone "$D/zones/$FIXTURE_DOMAIN.zone"
    cat > "$D/knot.conf" << CONF
server:
    identity: "wirecheck-peer knot"
    rundir: "$D/run"
    listen: $LOOPBACK@$port
log:
  - target: "$D/log/knot.log"
    any: info
database:
    storage: "$D/db"
control:
    listen: "$D/run/knot.sock"
acl:
  - id: loopback_transfer
    address: $LOOPBACK
    action: transfer
template:
  - id: default
    storage: "$D/zones"
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: $FIXTURE_DOMAIN
    acl: loopback_transfer
CONF
    checked check.log "knotc conf-check rejected $D/knot.conf" knotc -c "$D/knot.conf" conf-check
    serve_dns "$port" knotd -c "$D/knot.conf"
}
