//! Real proxy servers for the proxy tests: Debian's `tinyproxy` (HTTP CONNECT) and `danted`
//! (dante's SOCKS5 server), started on a free port of 127.0.0.1 with a configuration file
//! generated in a fresh directory, and killed (and reaped) when dropped.
//!
//! Both come from `./scripts/setup.sh` (Debian packages `tinyproxy` and `dante-server`). When a
//! binary is missing the constructors print "proxy skipped: … run ./scripts/setup.sh" and
//! return `None`; with `TRADEWIRE_REQUIRE_PEERS=1` (CI) that is a panic instead, as for the
//! peer servers.
//!
//! SOCKS5 username authentication in dante checks the system's users: `setup.sh` (as root)
//! creates the user [`SOCKS_USER`] with the password [`SOCKS_PASSWORD`]; without it
//! [`ProxyServer::danted`] with `username = true` skips the same way.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::peer::REQUIRE_ENV;

/// The system user `setup.sh` creates for dante's username method.
pub const SOCKS_USER: &str = "tradewire-proxy";
/// Its password (a test fixture: the account has no shell and no home).
pub const SOCKS_PASSWORD: &str = "tw-proxy-test-pw";

/// How long a proxy may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(20);

static DIRS: AtomicUsize = AtomicUsize::new(0);

/// A running proxy server process.
pub struct ProxyServer {
    name: &'static str,
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    log: PathBuf,
}

impl ProxyServer {
    /// tinyproxy on a free port; with `basic_auth`, it requires those credentials (407
    /// otherwise). `None` when tinyproxy is not installed.
    pub fn tinyproxy(basic_auth: Option<(&str, &str)>) -> Option<ProxyServer> {
        Self::tinyproxy_on(free_port(), basic_auth)
    }

    /// tinyproxy on `port` (to start one again where a killed one was).
    pub fn tinyproxy_on(port: u16, basic_auth: Option<(&str, &str)>) -> Option<ProxyServer> {
        let bin = find_binary("tinyproxy")?;
        let dir = fresh_dir("tinyproxy");
        let log = dir.join("tinyproxy.log");
        let mut conf = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 600\nMaxClients 100\nLogLevel Info\nLogFile \"{}\"\nAllow 127.0.0.1\n",
            log.display()
        );
        if let Some((user, password)) = basic_auth {
            conf.push_str(&format!("BasicAuth {user} {password}\n"));
        }
        let conf_path = dir.join("tinyproxy.conf");
        std::fs::write(&conf_path, conf).expect("write tinyproxy.conf");
        let mut cmd = Command::new(bin);
        cmd.arg("-d").arg("-c").arg(&conf_path);
        Self::spawn("tinyproxy", cmd, port, dir, log)
    }

    /// danted (SOCKS5) on a free port; `username`: it requires the system user
    /// [`SOCKS_USER`] (skipped when that user does not exist).
    pub fn danted(username: bool) -> Option<ProxyServer> {
        let bin = find_binary("danted")?;
        if username && !user_exists(SOCKS_USER) {
            return skip(&format!(
                "the system user {SOCKS_USER} (for dante's username method) does not exist"
            ));
        }
        let port = free_port();
        let dir = fresh_dir("danted");
        let log = dir.join("danted.log");
        let method = if username { "username" } else { "none" };
        let conf = format!(
            "logoutput: {log}\ninternal: 127.0.0.1 port = {port}\nexternal: 127.0.0.1\nclientmethod: none\nsocksmethod: {method}\nuser.privileged: root\nuser.unprivileged: nobody\nclient pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 }}\nsocks pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 log: connect error }}\n",
            log = log.display()
        );
        let conf_path = dir.join("danted.conf");
        std::fs::write(&conf_path, conf).expect("write danted.conf");
        let mut cmd = Command::new(bin);
        cmd.arg("-f").arg(&conf_path).arg("-N").arg("1");
        Self::spawn("danted", cmd, port, dir, log)
    }

    fn spawn(
        name: &'static str,
        mut cmd: Command,
        port: u16,
        dir: PathBuf,
        log: PathBuf,
    ) -> Option<ProxyServer> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.join("stderr")).expect("stderr file"),
            ));
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let mut server = ProxyServer {
            name,
            child: Some(child),
            port,
            dir,
            log,
        };
        server.wait_listening();
        Some(server)
    }

    fn wait_listening(&mut self) {
        let end = Instant::now() + START_TIMEOUT;
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "{} exited ({status}) before listening: {}",
                        self.name,
                        self.diagnostics()
                    );
                }
            }
            if Instant::now() > end {
                panic!(
                    "{} did not listen on {} within {START_TIMEOUT:?}: {}",
                    self.name,
                    self.port,
                    self.diagnostics()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `scheme://[user:password@]127.0.0.1:port`.
    pub fn url(&self, scheme: &str, auth: Option<(&str, &str)>) -> String {
        let auth = auth.map(|(u, p)| format!("{u}:{p}@")).unwrap_or_default();
        format!("{scheme}://{auth}127.0.0.1:{}", self.port)
    }

    /// The proxy's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills the process now (the tunnels it carries drop).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn diagnostics(&self) -> String {
        let stderr = std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default();
        format!("stderr: {stderr}; log: {}", self.log())
    }
}

impl Drop for ProxyServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nobody listens on now (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tradewire-{name}-{}-{}",
        std::process::id(),
        DIRS.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the proxy's directory");
    dir
}

fn find_binary(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin"].iter().map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .or_else(|| skip(&format!("{name} not found")))
}

fn user_exists(name: &str) -> bool {
    std::fs::read_to_string(Path::new("/etc/passwd"))
        .map(|p| p.lines().any(|l| l.split(':').next() == Some(name)))
        .unwrap_or(false)
}

fn skip<T>(reason: &str) -> Option<T> {
    let msg = format!("proxy skipped: {reason}: run ./scripts/setup.sh");
    if std::env::var(REQUIRE_ENV).as_deref() == Ok("1") {
        panic!("{msg} ({REQUIRE_ENV}=1)");
    }
    eprintln!("{msg}");
    None
}
