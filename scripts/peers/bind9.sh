# scripts/peers/bind9.sh: BIND 9 (named), authoritative only for example.test. on
# 127.0.0.1:PORT (default 5303), UDP and TCP, sourced by peers.sh.
#
# recursion no (REFUSED for other names), AXFR to 127.0.0.1, no rndc (empty controls, so nothing
# on port 953), version.bind answers "wirecheck-peer bind9", queries logged to $D/log/named.log.
# notify no: BIND would otherwise send NOTIFY to the zone's NS addresses. Runs `named -f` as root.

PEER_PACKAGES[bind9]="bind9"
PEER_FAMILY[bind9]=""
PEER_NEEDS[bind9]="named named-checkconf named-checkzone"
PEER_SERVICES[bind9]="dns=5303"

start_bind9() {
    local port=$1
    mkdir -p "$D/zones"
    fixture_zone "$D/zones/$FIXTURE_DOMAIN.zone"
    cat > "$D/named.conf" << CONF
options {
    directory "$D";
    listen-on port $port { $LOOPBACK; };
    listen-on-v6 { none; };
    pid-file "$D/named.pid";
    session-keyfile "$D/session.key";
    managed-keys-directory "$D";
    recursion no;
    notify no;
    allow-transfer { $LOOPBACK; };
    dnssec-validation no;
    version "wirecheck-peer bind9";
};
controls { };
logging {
    channel to_file { file "$D/log/named.log"; severity info; print-time yes; print-category yes; };
    category default { to_file; };
    category queries { to_file; };
};
zone "$FIXTURE_DOMAIN" {
    type primary;
    file "$D/zones/$FIXTURE_DOMAIN.zone";
};
CONF
    checked check.log "named-checkconf rejected $D/named.conf" named-checkconf "$D/named.conf"
    checked checkzone.log "named-checkzone rejected the zone" \
        named-checkzone "$FIXTURE_DOMAIN" "$D/zones/$FIXTURE_DOMAIN.zone"
    serve_dns "$port" named -f -c "$D/named.conf"
}
