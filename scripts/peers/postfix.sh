# scripts/peers/postfix.sh: Postfix on 127.0.0.1:PORT (default 2525), sourced by peers.sh.
#
# SMTP with STARTTLS (self-signed cert) and AUTH PLAIN / LOGIN / CRAM-MD5 (Cyrus SASL, a
# private sasldb) for alice@example.test / secret. Mail to alice@ (and postmaster@, abuse@)
# example.test is delivered by the virtual agent, as uid nobody, to the Maildir
# $D/mail/example.test/alice/ (or, when WIRECHECK_POSTFIX_MAILDIR names a Maildir, into that one:
# dovecot's, for scenarios that send by SMTP and read back by POP3 / IMAP). Every other
# destination gets the error transport: nothing leaves the machine.

PEER_PACKAGES[postfix]="postfix sasl2-bin"
PEER_FAMILY[postfix]=mta
PEER_NEEDS[postfix]="postfix postconf saslpasswd2"
PEER_SERVICES[postfix]="smtp=2525"

start_postfix() {
    local port=$1 etc=$D/etc nobody_uid nobody_gid
    nobody_uid=$(id -u nobody)
    nobody_gid=$(id -g nobody)
    mkdir -p "$etc/sasl" "$D/spool" "$D/data" "$D/mail"
    make_cert "$etc"
    chown root:postfix "$etc/key.pem"
    chmod 640 "$etc/key.pem"

    : > "$etc/main.cf"
    postconf -c "$etc" -e \
        "compatibility_level = 3.6" \
        "queue_directory = $D/spool" \
        "data_directory = $D/data" \
        "command_directory = /usr/sbin" \
        "daemon_directory = /usr/lib/postfix/sbin" \
        "meta_directory = /etc/postfix" \
        "shlib_directory = /usr/lib/postfix" \
        "mail_owner = postfix" \
        "setgid_group = postdrop" \
        "myhostname = mail.$FIXTURE_DOMAIN" \
        "mydomain = $FIXTURE_DOMAIN" \
        "myorigin = \$mydomain" \
        "mydestination =" \
        "local_recipient_maps =" \
        "alias_maps =" \
        "alias_database =" \
        "inet_interfaces = loopback-only" \
        "inet_protocols = ipv4" \
        "mynetworks = 127.0.0.0/8" \
        "smtpd_banner = \$myhostname ESMTP wirecheck-peer postfix" \
        "smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination" \
        "default_transport = error:this test peer sends no mail off the machine" \
        "relay_transport = error:this test peer sends no mail off the machine" \
        "smtp_dns_support_level = disabled" \
        "virtual_mailbox_domains = $FIXTURE_DOMAIN" \
        "virtual_mailbox_maps = texthash:$etc/vmailbox" \
        "virtual_alias_maps = texthash:$etc/valias" \
        "virtual_uid_maps = static:$nobody_uid" \
        "virtual_gid_maps = static:$nobody_gid" \
        "maillog_file = $D/log/postfix.log" \
        "maillog_file_prefixes = $D/log" \
        "smtpd_tls_cert_file = $etc/cert.pem" \
        "smtpd_tls_key_file = $etc/key.pem" \
        "smtpd_tls_security_level = may" \
        "smtpd_tls_auth_only = no" \
        "smtp_tls_security_level = none" \
        "smtpd_sasl_auth_enable = yes" \
        "smtpd_sasl_type = cyrus" \
        "smtpd_sasl_path = smtpd" \
        "smtpd_sasl_local_domain = $FIXTURE_DOMAIN" \
        "cyrus_sasl_config_path = $etc/sasl" \
        "biff = no" \
        "append_dot_mydomain = no" \
        "message_size_limit = 10240000"

    # Our own master.cf: one listener on 127.0.0.1:PORT instead of :25, nothing chrooted (the
    # chroot would lack $D), and postlogd for maillog_file.
    cat > "$etc/master.cf" << MASTER
# service           type       private unpriv chroot wakeup maxproc command
$LOOPBACK:$port     inet       n       -      n      -      -       smtpd
pickup              unix       n       -      n      60     1       pickup
cleanup             unix       n       -      n      -      0       cleanup
qmgr                unix       n       -      n      300    1       qmgr
tlsmgr              unix       -       -      n      1000?  1       tlsmgr
rewrite             unix       -       -      n      -      -       trivial-rewrite
bounce              unix       -       -      n      -      0       bounce
defer               unix       -       -      n      -      0       bounce
trace               unix       -       -      n      -      0       bounce
verify              unix       -       -      n      -      1       verify
flush               unix       n       -      n      1000?  0       flush
proxymap            unix       -       -      n      -      -       proxymap
proxywrite          unix       -       -      n      -      1       proxymap
smtp                unix       -       -      n      -      -       smtp
relay               unix       -       -      n      -      -       smtp
showq               unix       n       -      n      -      -       showq
error               unix       -       -      n      -      -       error
retry               unix       -       -      n      -      -       error
discard             unix       -       -      n      -      -       discard
local               unix       -       n      n      -      -       local
virtual             unix       -       n      n      -      -       virtual
lmtp                unix       -       -      n      -      -       lmtp
anvil               unix       -       -      n      -      1       anvil
scache              unix       -       -      n      -      1       scache
postlog             unix-dgram n       -      n      -      1       postlogd
MASTER

    local base=$D/mail box=$FIXTURE_DOMAIN/$FIXTURE_USER/ shared=${WIRECHECK_POSTFIX_MAILDIR:-}
    if [ -n "$shared" ]; then
        [ -d "$shared" ] && [ "${shared#/}" != "$shared" ] ||
            die "WIRECHECK_POSTFIX_MAILDIR=$shared is not an absolute path to a Maildir"
        base=$(dirname "$shared")
        box=$(basename "$shared")/
    fi
    postconf -c "$etc" -e "virtual_mailbox_base = $base"
    printf '%s@%s %s\n' "$FIXTURE_USER" "$FIXTURE_DOMAIN" "$box" > "$etc/vmailbox"
    printf '%s@%s %s@%s\n' postmaster "$FIXTURE_DOMAIN" "$FIXTURE_USER" "$FIXTURE_DOMAIN" \
        abuse "$FIXTURE_DOMAIN" "$FIXTURE_USER" "$FIXTURE_DOMAIN" > "$etc/valias"
    mkdir -p "$D/mail/$FIXTURE_DOMAIN/$FIXTURE_USER"
    chown -R "$nobody_uid:$nobody_gid" "$D/mail"
    # master refuses to start unless postfix owns its lock directory
    chown postfix:postfix "$D/data"

    cat > "$etc/sasl/smtpd.conf" << SASL
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN CRAM-MD5
sasldb_path: $etc/sasldb2
SASL
    printf '%s' "$FIXTURE_PASS" | saslpasswd2 -p -f "$etc/sasldb2" -c -u "$FIXTURE_DOMAIN" "$FIXTURE_USER"
    chown root:postfix "$etc/sasldb2"
    chmod 640 "$etc/sasldb2"

    # `postfix start` runs `postfix check` itself first
    daemonize postfix -c "$etc" start || die "postfix start failed"
    wait_until 20 file_ready "$D/spool/pid/master.pid" || die "postfix wrote no master.pid"
    record_pid "$(tr -d ' \n' < "$D/spool/pid/master.pid")"
    await_greeting "$port" "220 mail\\.$FIXTURE_DOMAIN ESMTP"
}
