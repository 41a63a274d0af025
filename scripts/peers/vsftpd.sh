# scripts/peers/vsftpd.sh: vsftpd on 127.0.0.1:PORT (default 2121), sourced by peers.sh.
#
# Virtual user alice / secret (PAM pam_userdb, mapped to the local user ftp) and anonymous
# read-only, both rooted at $D/root (the FTP tree; only upload/ is writable); AUTH TLS (explicit
# FTPS, optional); passive and active mode. vsftpd offers no MLST/MLSD and no UTF8 in FEAT.
#
# PAM services can only live in /etc/pam.d: the start writes /etc/pam.d/wirecheck-vsftpd-PORT
# (pointing at $D/etc/users.db, a Berkeley DB made with perl's DB_File) and stop removes it.

PEER_PACKAGES[vsftpd]="vsftpd perl"
PEER_FAMILY[vsftpd]=ftp
PEER_NEEDS[vsftpd]="vsftpd perl"
PEER_SERVICES[vsftpd]="ftp=2121"

start_vsftpd() {
    local port=$1 etc=$D/etc pam=wirecheck-vsftpd-$1
    mkdir -p "$etc" "$D/empty" "$D/root"
    make_cert "$etc"
    fixture_ftp_tree "$D/root"
    chown -R "ftp:$(id -g ftp)" "$D/root/upload"
    # vsftpd refuses a writable chroot root; the writable place is upload/
    chmod 755 "$D/empty" "$D/root"

    perl -MDB_File -MFcntl -e '
        tie my %db, "DB_File", $ARGV[0], O_RDWR | O_CREAT, 0600, $DB_HASH or die "$ARGV[0]: $!";
        $db{$ARGV[1]} = $ARGV[2];
        untie %db;' "$etc/users.db" "$FIXTURE_USER" "$FIXTURE_PASS" || die "could not write $etc/users.db"
    note_cleanup "/etc/pam.d/$pam"
    cat > "/etc/pam.d/$pam" << PAM
# wirecheck scripts/peers.sh: the vsftpd test peer in $D (removed by peers.sh stop vsftpd)
auth    required pam_userdb.so db=$etc/users
account required pam_userdb.so db=$etc/users
PAM

    cat > "$etc/vsftpd.conf" << CONF
listen=YES
listen_ipv6=NO
listen_address=$LOOPBACK
listen_port=$port
background=NO
ftpd_banner=wirecheck-peer vsftpd ready.
secure_chroot_dir=$D/empty
pam_service_name=$pam
anonymous_enable=YES
anon_root=$D/root
no_anon_password=YES
anon_upload_enable=NO
anon_mkdir_write_enable=NO
local_enable=YES
guest_enable=YES
guest_username=ftp
virtual_use_local_privs=YES
local_root=$D/root
chroot_local_user=YES
write_enable=YES
local_umask=022
dirmessage_enable=NO
pasv_enable=YES
pasv_address=$LOOPBACK
port_enable=YES
connect_from_port_20=NO
ssl_enable=YES
rsa_cert_file=$etc/cert.pem
rsa_private_key_file=$etc/key.pem
allow_anon_ssl=YES
force_local_data_ssl=NO
force_local_logins_ssl=NO
require_ssl_reuse=NO
ssl_ciphers=HIGH
xferlog_enable=YES
xferlog_std_format=NO
log_ftp_protocol=YES
vsftpd_log_file=$D/log/vsftpd.log
CONF
    # vsftpd insists that root own its configuration file
    chmod 600 "$etc/vsftpd.conf"
    serve_greeting "$port" '220 wirecheck-peer vsftpd ready\.' vsftpd "$etc/vsftpd.conf"
}
