# scripts/peers/proftpd.sh: ProFTPD on 127.0.0.1:PORT (default 2122), sourced by peers.sh.
#
# User alice / secret from a private AuthUserFile, anonymous read-only, both rooted at $D/root
# (the FTP tree; only upload/ is writable); AUTH TLS (mod_tls, which Debian 12 ships in
# proftpd-mod-crypto); MLST/MLSD; passive and active mode. The master runs as root and serves
# sessions as nobody / ftp.

PEER_PACKAGES[proftpd]="proftpd-core proftpd-mod-crypto"
PEER_FAMILY[proftpd]=ftp
PEER_NEEDS[proftpd]="proftpd"
PEER_SERVICES[proftpd]="ftp=2122"

start_proftpd() {
    local port=$1 etc=$D/etc ftp_uid ftp_gid hash modules
    # the modules live beside the binary: /usr/sbin/proftpd -> /usr/lib/proftpd
    modules=$(cd "$(dirname "$(command -v proftpd)")/../lib/proftpd" 2> /dev/null && pwd) ||
        die "no module directory for $(command -v proftpd)"
    [ -e "$modules/mod_tls.so" ] || die "$modules/mod_tls.so is missing: apt-get install proftpd-mod-crypto"
    mkdir -p "$etc" "$D/run" "$D/root"
    make_cert "$etc"
    fixture_ftp_tree "$D/root"
    ftp_uid=$(id -u ftp 2> /dev/null || id -u nobody)
    ftp_gid=$(id -g ftp 2> /dev/null || id -g nobody)
    chown -R "$ftp_uid:$ftp_gid" "$D/root/upload"
    hash=$(openssl passwd -6 "$FIXTURE_PASS")
    # with AuthOrder mod_auth_file.c only, the anonymous login's user (ftp) must be in the file too
    {
        printf '%s:%s:%s:%s::%s:/bin/false\n' "$FIXTURE_USER" "$hash" "$ftp_uid" "$ftp_gid" "$D/root"
        printf 'ftp:*:%s:%s::%s:/bin/false\n' "$ftp_uid" "$ftp_gid" "$D/root"
    } > "$etc/passwd"
    printf 'ftp:x:%s:%s\n' "$ftp_gid" "$FIXTURE_USER" > "$etc/group"
    chmod 600 "$etc/passwd" "$etc/group"

    cat > "$etc/proftpd.conf" << CONF
ServerName "wirecheck-peer proftpd"
ServerIdent on "wirecheck-peer proftpd ready."
ServerType standalone
Port $port
DefaultAddress $LOOPBACK
# bind to DefaultAddress only, not to every address
SocketBindTight on
UseIPv6 off
User nobody
Group nogroup
Umask 022
MaxInstances 30
PidFile $D/run/proftpd.pid
ScoreboardFile $D/run/proftpd.scoreboard
DelayTable $D/run/proftpd.delay
ControlsEngine off
SystemLog $D/log/proftpd.log
TransferLog $D/log/xferlog
LogFormat commands "%h %u %r %s"
ExtendedLog $D/log/commands.log ALL commands
WtmpLog off
UseReverseDNS off
UseLastlog off
AuthOrder mod_auth_file.c
AuthUserFile $etc/passwd
AuthGroupFile $etc/group
AuthPAM off
RequireValidShell off
DefaultRoot ~
AllowOverwrite on
# APPE and REST + STOR (RFC 959 §4.1.3, RFC 3659 §5.5; APPE is in RFC 1123 §4.1.2.13's minimum):
# ProFTPD refuses both with 451 unless this is on
AllowStoreRestart on
ModulePath $modules
LoadModule mod_tls.c
<IfModule mod_tls.c>
  TLSEngine on
  TLSLog $D/log/tls.log
  TLSProtocol TLSv1.2 TLSv1.3
  TLSRSACertificateFile $etc/cert.pem
  TLSRSACertificateKeyFile $etc/key.pem
  TLSRequired off
  TLSOptions NoSessionReuseRequired
  TLSVerifyClient off
</IfModule>
<Anonymous $D/root>
  User ftp
  Group ftp
  UserAlias anonymous ftp
  RequireValidShell off
  AuthUsingAlias on
  <Limit WRITE>
    DenyAll
  </Limit>
</Anonymous>
CONF
    checked check.log "proftpd rejected $etc/proftpd.conf" proftpd -t -c "$etc/proftpd.conf"
    serve_greeting "$port" '220 wirecheck-peer proftpd ready\.' proftpd --nodaemon -c "$etc/proftpd.conf"
}
