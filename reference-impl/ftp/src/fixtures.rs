//! The file tree the real FTP peers serve (`shared/peers/_lib.sh`, `write_ftp_tree`), so the
//! same transcripts run against the oracle, vsftpd and ProFTPD.

use std::fs;
use std::io;
use std::path::Path;

/// Contents of `/hello.txt`.
pub const HELLO_TXT: &[u8] = b"hello from the ftp peer\n";
/// Contents of `/pub/crlf.txt`.
pub const CRLF_TXT: &[u8] = b"line1\r\nline2\r\n";
/// Size of `/pub/64k.bin` (all `x`).
pub const BIN_64K_LEN: usize = 65_536;
/// Contents of `/pub/sub/nested.txt`.
pub const NESTED_TXT: &[u8] = b"nested\n";

/// Create the peers' tree in `dir`: `hello.txt`, `pub/{64k.bin,crlf.txt,sub/nested.txt}` and
/// the empty `upload/` (the only directory the peers let `alice` write to; configure the
/// oracle with `writable = ["/upload"]`, the [`crate::FtpConfig`] default).
pub fn create_peer_tree(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir.join("pub/sub"))?;
    fs::create_dir_all(dir.join("upload"))?;
    fs::write(dir.join("hello.txt"), HELLO_TXT)?;
    fs::write(dir.join("pub/crlf.txt"), CRLF_TXT)?;
    fs::write(dir.join("pub/64k.bin"), vec![b'x'; BIN_64K_LEN])?;
    fs::write(dir.join("pub/sub/nested.txt"), NESTED_TXT)?;
    Ok(())
}
