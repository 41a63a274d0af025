//! The interface between a sans-IO session and the driver that runs it.

/// What a session asks its driver to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Write these bytes to the peer.
    Send(Vec<u8>),
    /// Flush what was sent, then start TLS on this connection (STARTTLS, STLS, AUTH TLS).
    /// The session has already discarded anything it had buffered.
    StartTls,
    /// Flush what was sent, then close the connection.
    Close,
}

/// What the driver tells a session once TLS is up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// The negotiated protocol version, e.g. "TLSv1_3".
    pub version: String,
    /// The negotiated cipher suite.
    pub cipher: String,
}

/// A sans-IO protocol session: bytes in, [`Output`]s out, no sockets and no clocks.
///
/// The driver loops: read -> [`handle_input`](Session::handle_input) -> drain
/// [`poll_output`](Session::poll_output) -> write. A session never blocks and never panics,
/// whatever the peer sends; it bounds its own buffers.
pub trait Session {
    /// Bytes received from the peer.
    fn handle_input(&mut self, data: &[u8]);

    /// The peer closed its sending side (or the connection).
    fn handle_eof(&mut self) {}

    /// The peer sent nothing for the driver's idle timeout. The default closes; a protocol
    /// that owes a reply first (SMTP `421`, RFC 5321 §4.5.3.2) sends it, then [`Output::Close`].
    fn handle_timeout(&mut self) -> Vec<Output> {
        vec![Output::Close]
    }

    /// TLS was established after [`Output::StartTls`] (or at connect, for implicit TLS).
    fn handle_tls(&mut self, _info: TlsInfo) {}

    /// The next thing to do, or `None` when the session waits for input.
    fn poll_output(&mut self) -> Option<Output>;
}
