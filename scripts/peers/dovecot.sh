# scripts/peers/dovecot.sh: Dovecot, IMAP on 127.0.0.1:IMAP_PORT (default 1430) and POP3 on
# 127.0.0.1:POP3_PORT (default 1130), sourced by peers.sh.
#
# STARTTLS / STLS (self-signed cert), LOGIN / USER+PASS and AUTHENTICATE PLAIN / LOGIN / CRAM-MD5
# for alice / secret (a passwd-file with a {PLAIN} password, which CRAM-MD5 needs), plaintext
# login allowed. Mail is accessed as uid nobody in the Maildir $D/mail/alice/Maildir, which holds
# the two test messages.

PEER_PACKAGES[dovecot]="dovecot-imapd dovecot-pop3d"
PEER_FAMILY[dovecot]=imap
PEER_NEEDS[dovecot]="dovecot /usr/lib/dovecot/imap /usr/lib/dovecot/pop3"
PEER_SERVICES[dovecot]="imap=1430 pop3=1130"

start_dovecot() {
    local imap_port=$1 pop3_port=$2 etc=$D/etc
    mkdir -p "$etc" "$D/run" "$D/state" "$D/mail/$FIXTURE_USER"
    make_cert "$etc"
    printf '%s:{PLAIN}%s:::::\n' "$FIXTURE_USER" "$FIXTURE_PASS" > "$etc/users"
    chown root:dovecot "$etc/users"
    chmod 640 "$etc/users"
    fixture_maildir "$D/mail/$FIXTURE_USER/Maildir"
    chown -R nobody:nogroup "$D/mail"

    cat > "$etc/dovecot.conf" << CONF
instance_name = wirecheck-dovecot-$imap_port
base_dir = $D/run
state_dir = $D/state
protocols = imap pop3
listen = $LOOPBACK
log_path = $D/log/dovecot.log
info_log_path = $D/log/dovecot.log
debug_log_path = $D/log/dovecot.log
default_login_user = dovenull
default_internal_user = dovecot
ssl = yes
ssl_cert = <$etc/cert.pem
ssl_key = <$etc/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5
login_greeting = wirecheck-peer dovecot ready.
mail_location = maildir:$D/mail/%u/Maildir
mail_privileged_group =
pop3_uidl_format = %08Xu%08Xv
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $etc/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$D/mail/%u
}
namespace inbox {
  inbox = yes
  mailbox Drafts {
    auto = subscribe
    special_use = \\Drafts
  }
  mailbox Sent {
    auto = subscribe
    special_use = \\Sent
  }
  mailbox Trash {
    auto = subscribe
    special_use = \\Trash
  }
}
# Auth and login processes are started up front: otherwise the first client can get
# "* OK Waiting for authentication process to respond.." and its login is lost.
service auth {
  process_min_avail = 1
}
service imap-login {
  process_min_avail = 1
  inet_listener imap {
    address = $LOOPBACK
    port = $imap_port
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  process_min_avail = 1
  inet_listener pop3 {
    address = $LOOPBACK
    port = $pop3_port
  }
  inet_listener pop3s {
    port = 0
  }
}
CONF
    checked config.log "dovecot rejected $etc/dovecot.conf" dovecot -c "$etc/dovecot.conf" -n
    daemonize dovecot -c "$etc/dovecot.conf" || die "dovecot did not start"
    wait_until 20 file_ready "$D/run/master.pid" || die "dovecot wrote no master.pid"
    record_pid "$(cat "$D/run/master.pid")"
    # ready means the real greetings, not "Waiting for authentication process"
    await_greeting "$imap_port" '\* OK .*wirecheck-peer dovecot ready\.'
    await_greeting "$pop3_port" '\+OK wirecheck-peer dovecot ready\.'

}
