//! Targets: an address (`--target HOST:PORT`) or a command wirecheck starts
//! (`--target-cmd 'CMD {port}'`).
//!
//! A started target runs in its own process group (`setsid`-like, via `process_group(0)`),
//! on a free loopback port substituted for `{port}` (`{host}` is `127.0.0.1`). wirecheck
//! waits until the port accepts connections, restarts the target when it has died between
//! cases, and at the end signals the whole group (`killpg`: SIGTERM, then SIGKILL), so a
//! shell wrapper's children go too. The last few KiB of the target's stderr are kept for
//! the report when it dies.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

/// What to test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    /// Where it is.
    pub kind: TargetKind,
    /// Other services of the target, by name (`smtp`, `pop3`, …): `${pop3}` in scenarios.
    pub services: BTreeMap<String, String>,
    /// Server-role cases: the command that starts the client under test (`{host}`,
    /// `{port}`: wirecheck's listener). When every selected case is a server-role case, a
    /// [`TargetKind::Command`] is that client instead.
    pub client_cmd: Option<String>,
    /// A short name for reports (default: the address or the command).
    pub name: Option<String>,
}

/// Where the target is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    /// Already running at `HOST:PORT`.
    Addr(String),
    /// Started by wirecheck (`{port}` and `{host}` substituted). In the server role, the
    /// command starts the client under test instead, once per case.
    Command {
        /// The shell command.
        cmd: String,
        /// A freshly started target for every transcript.
        isolate: bool,
    },
}

impl TargetSpec {
    /// A target at `addr`.
    pub fn addr(addr: impl Into<String>) -> TargetSpec {
        TargetSpec {
            kind: TargetKind::Addr(addr.into()),
            services: BTreeMap::new(),
            client_cmd: None,
            name: None,
        }
    }

    /// A target started by `cmd`.
    pub fn command(cmd: impl Into<String>, isolate: bool) -> TargetSpec {
        TargetSpec {
            kind: TargetKind::Command {
                cmd: cmd.into(),
                isolate,
            },
            services: BTreeMap::new(),
            client_cmd: None,
            name: None,
        }
    }

    /// What the report calls the target.
    pub fn describe(&self) -> String {
        match &self.kind {
            TargetKind::Addr(a) => a.clone(),
            TargetKind::Command { cmd, .. } => cmd.clone(),
        }
    }
}

/// Why a target could not be started.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// No free port / the command could not be spawned.
    #[error("cannot start `{cmd}`: {message}")]
    Spawn {
        /// The command.
        cmd: String,
        /// Why.
        message: String,
    },
    /// It exited before its port accepted connections.
    #[error("`{cmd}` exited during start-up ({status}){}", stderr_suffix(stderr))]
    Exited {
        /// The command.
        cmd: String,
        /// Its exit status.
        status: String,
        /// The end of its stderr.
        stderr: String,
    },
    /// Its port did not accept connections in time.
    #[error(
        "`{cmd}` did not accept connections on port {port} within {secs:.1}s{}",
        stderr_suffix(stderr)
    )]
    NotReady {
        /// The command.
        cmd: String,
        /// The port it was given.
        port: u16,
        /// How long we waited.
        secs: f64,
        /// The end of its stderr.
        stderr: String,
    },
}

fn stderr_suffix(s: &str) -> String {
    if s.trim().is_empty() {
        String::new()
    } else {
        format!("; its stderr ends with: {}", s.trim())
    }
}

/// How much of a target's stderr is kept.
const STDERR_TAIL: usize = 4096;

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_port() -> std::io::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// `cmd` with `{port}` and `{host}` replaced.
pub fn substitute(cmd: &str, host: &str, port: u16) -> String {
    cmd.replace("{port}", &port.to_string())
        .replace("{host}", host)
}

/// `PATH` for the commands wirecheck starts: first the directory of the running binary, so
/// that a transcript's `target-cmd = "wirecheck relay-once {host}:{port}"` runs this very
/// `wirecheck` (and a test binary under `target/*/deps` finds the `wirecheck` beside
/// `deps`), then the inherited `PATH`.
fn tool_path() -> Option<std::ffi::OsString> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    let mut dirs = vec![dir.to_path_buf()];
    if dir.file_name().is_some_and(|n| n == "deps") {
        dirs.extend(dir.parent().map(|p| p.to_path_buf()));
    }
    if let Some(p) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(dirs).ok()
}

/// A process group wirecheck started; signalled as a whole when stopped or dropped.
#[derive(Debug)]
pub struct Process {
    cmd: String,
    child: Child,
    pgid: Option<Pid>,
    stderr: Arc<StdMutex<Vec<u8>>>,
}

impl Process {
    /// Spawn `sh -c CMD` in a new process group, stdin closed, stdout discarded, stderr kept
    /// (its tail).
    pub fn spawn(cmd: &str) -> Result<Process, TargetError> {
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(cmd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(path) = tool_path() {
            c.env("PATH", path);
        }
        c.process_group(0).kill_on_drop(true);
        let mut child = c.spawn().map_err(|e| TargetError::Spawn {
            cmd: cmd.to_string(),
            message: e.to_string(),
        })?;
        let pgid = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw);
        let stderr = Arc::new(StdMutex::new(Vec::new()));
        if let Some(mut err) = child.stderr.take() {
            let tail = stderr.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = err.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut t) = tail.lock() {
                        t.extend_from_slice(&buf[..n]);
                        let excess = t.len().saturating_sub(STDERR_TAIL);
                        t.drain(..excess);
                    }
                }
            });
        }
        Ok(Process {
            cmd: cmd.to_string(),
            child,
            pgid,
            stderr,
        })
    }

    /// The command line.
    pub fn cmd(&self) -> &str {
        &self.cmd
    }

    /// The exit status, when it has exited.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(st)) => Some(st.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("unknown ({e})")),
        }
    }

    /// The end of its stderr (lossy).
    pub fn stderr_tail(&self) -> String {
        self.stderr
            .lock()
            .map(|t| String::from_utf8_lossy(&t).into_owned())
            .unwrap_or_default()
    }

    /// Wait until `addr` accepts a TCP connection, the process exits, or `limit` passes.
    pub async fn wait_ready(
        &mut self,
        addr: SocketAddr,
        limit: Duration,
    ) -> Result<(), TargetError> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.exited() {
                return Err(TargetError::Exited {
                    cmd: self.cmd.clone(),
                    status,
                    stderr: self.stderr_tail(),
                });
            }
            let attempt = tokio::time::timeout(
                Duration::from_millis(500),
                tokio::net::TcpStream::connect(addr),
            )
            .await;
            if let Ok(Ok(_)) = attempt {
                return Ok(());
            }
            if start.elapsed() >= limit {
                return Err(TargetError::NotReady {
                    cmd: self.cmd.clone(),
                    port: addr.port(),
                    secs: limit.as_secs_f64(),
                    stderr: self.stderr_tail(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM to the group, up to `grace` to exit, then SIGKILL.
    pub async fn stop(mut self, grace: Duration) {
        if let Some(pg) = self.pgid {
            let _ = killpg(pg, Signal::SIGTERM);
        }
        let waited = tokio::time::timeout(grace, self.child.wait()).await;
        if let Some(pg) = self.pgid {
            // The leader may be gone while others of its group still run.
            let _ = killpg(pg, Signal::SIGKILL);
        }
        if waited.is_err() {
            let _ = self.child.kill().await;
        }
        self.pgid = None;
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(pg) = self.pgid.take() {
            let _ = killpg(pg, Signal::SIGKILL);
        }
    }
}

/// A started target on its port.
#[derive(Debug)]
pub struct Started {
    /// The process.
    pub process: Process,
    /// Where it listens.
    pub addr: SocketAddr,
}

/// Start `cmd` on a free port and wait until it accepts connections.
pub async fn start(cmd: &str, startup: Duration) -> Result<Started, TargetError> {
    let port = free_port().map_err(|e| TargetError::Spawn {
        cmd: cmd.to_string(),
        message: format!("no free port: {e}"),
    })?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut process = Process::spawn(&substitute(cmd, "127.0.0.1", port))?;
    match process.wait_ready(addr, startup).await {
        Ok(()) => Ok(Started { process, addr }),
        Err(e) => {
            process.stop(Duration::from_millis(500)).await;
            Err(e)
        }
    }
}

/// A target command shared by every case of a run, restarted when it has died.
#[derive(Debug)]
pub struct Managed {
    cmd: String,
    startup: Duration,
    current: tokio::sync::Mutex<Option<Started>>,
}

/// What [`Managed::check`] found after a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Died {
    /// The exit status.
    pub status: String,
    /// The end of its stderr.
    pub stderr: String,
}

impl Managed {
    /// Not started yet.
    pub fn new(cmd: &str, startup: Duration) -> Managed {
        Managed {
            cmd: cmd.to_string(),
            startup,
            current: tokio::sync::Mutex::new(None),
        }
    }

    /// The address of a running target: the current one, or a fresh one when it is not
    /// started or has died.
    pub async fn ensure(&self) -> Result<SocketAddr, TargetError> {
        let mut cur = self.current.lock().await;
        if let Some(s) = cur.as_mut()
            && s.process.exited().is_none()
        {
            return Ok(s.addr);
        }
        if let Some(old) = cur.take() {
            old.process.stop(Duration::from_millis(200)).await;
        }
        let s = start(&self.cmd, self.startup).await?;
        let addr = s.addr;
        *cur = Some(s);
        Ok(addr)
    }

    /// Has the target died? (It is restarted by the next [`Managed::ensure`].)
    pub async fn check(&self) -> Option<Died> {
        let mut cur = self.current.lock().await;
        let s = cur.as_mut()?;
        s.process.exited().map(|status| Died {
            status,
            stderr: s.process.stderr_tail(),
        })
    }

    /// Has the target died, or does it die within `grace`? (Polled every 20 ms.)
    pub async fn check_within(&self, grace: Duration) -> Option<Died> {
        let until = tokio::time::Instant::now() + grace;
        loop {
            if let Some(d) = self.check().await {
                return Some(d);
            }
            if tokio::time::Instant::now() >= until {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stop it (SIGTERM to the group, then SIGKILL).
    pub async fn stop(&self) {
        if let Some(s) = self.current.lock().await.take() {
            s.process.stop(Duration::from_secs(2)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution() {
        assert_eq!(
            substitute("srv --listen {host}:{port} -p {port}", "127.0.0.1", 25),
            "srv --listen 127.0.0.1:25 -p 25"
        );
    }

    #[tokio::test]
    async fn a_command_that_exits_is_reported_with_its_stderr() {
        let e = start("echo boom >&2; exit 3", Duration::from_secs(10))
            .await
            .unwrap_err();
        match e {
            TargetError::Exited { status, stderr, .. } => {
                assert!(status.contains('3'), "{status}");
                assert!(stderr.contains("boom") || stderr.is_empty(), "{stderr}");
            }
            e => panic!("{e:?}"),
        }
    }

    #[tokio::test]
    async fn a_command_that_never_listens_times_out_and_is_stopped() {
        let e = start("sleep 30", Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(matches!(e, TargetError::NotReady { .. }), "{e:?}");
    }
}
