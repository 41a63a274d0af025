# scripts/peers/nsd.sh: NSD, authoritative for example.test. on 127.0.0.1:PORT (default 5301),
# UDP and TCP, sourced by peers.sh.
#
# AXFR to 127.0.0.1, no remote-control (its fixed port 8952 would clash between instances),
# response-rate-limiting off (Debian builds NSD with RRL at ~200 qps, which drops load tests'
# queries). Runs in the foreground as root, without chroot; every file is under $D.

PEER_PACKAGES[nsd]="nsd"
PEER_FAMILY[nsd]=""
PEER_NEEDS[nsd]="nsd nsd-checkconf nsd-checkzone"
PEER_SERVICES[nsd]="dns=5301"

start_nsd() {
    local port=$1
    mkdir -p "$D/zones" "$D/xfr"
    fixture_zone "$D/zones/$FIXTURE_DOMAIN.zone"
    cat > "$D/nsd.conf" << CONF
server:
  ip-address: $LOOPBACK
  port: $port
  do-ip4: yes
  do-ip6: no
  username: ""
  chroot: ""
  database: ""
  zonesdir: "$D/zones"
  zonelistfile: "$D/zone.list"
  xfrdfile: "$D/xfrd.state"
  xfrdir: "$D/xfr"
  pidfile: "$D/nsd.pid"
  logfile: "$D/log/nsd.log"
  server-count: 1
  verbosity: 2
  hide-version: no
  identity: "wirecheck-peer nsd"
  rrl-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: "$FIXTURE_DOMAIN"
  zonefile: "$FIXTURE_DOMAIN.zone"
  provide-xfr: $LOOPBACK NOKEY
CONF
    checked check.log "nsd-checkconf rejected $D/nsd.conf" nsd-checkconf "$D/nsd.conf"
    checked checkzone.log "nsd-checkzone rejected the zone" \
        nsd-checkzone "$FIXTURE_DOMAIN" "$D/zones/$FIXTURE_DOMAIN.zone"
    serve_dns "$port" nsd -d -c "$D/nsd.conf"
}
