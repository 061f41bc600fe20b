//! Building the C programs of `tests/c` against libtradewire, and running them.
//!
//! The library is built by `cargo build -p tradewire-ffi` into the target directory of the
//! test run (see [`lib_dir`]). Programs link it with an rpath, so they run without
//! `LD_LIBRARY_PATH`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Generous bound for a C program to finish its scenario on a busy 2-core machine.
pub const PROGRAM_TIMEOUT: Duration = Duration::from_secs(45);

/// How a program is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// C11, `-Wall -Wextra -Werror -pedantic`, AddressSanitizer + UndefinedBehaviorSanitizer.
    Sanitized,
    /// The same warnings, no sanitizer: for valgrind (which cannot run ASan binaries).
    Plain,
    /// The source is C++17 (`g++ -std=c++17 -Wall -Wextra -Werror`).
    Cxx,
}

impl Flavor {
    fn dir(self) -> &'static str {
        match self {
            Flavor::Sanitized => "sanitized",
            Flavor::Plain => "plain",
            Flavor::Cxx => "cxx",
        }
    }
}

/// The workspace root (`ffi/..`).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("ffi/ has a parent")
        .to_path_buf()
}

/// The directory holding an up-to-date `libtradewire.so`: `cargo build -p tradewire-ffi`
/// (a no-op when nothing changed) into the target directory and profile of this test run.
///
/// The library cannot simply be taken from the test run's own build: `cargo test` builds the
/// cdylib only for crates whose library is also an rlib, and this one is not (its library is
/// called `tradewire`, like the core's rlib; an rlib here would collide with it).
pub fn lib_dir() -> &'static Path {
    const LIB_FILE: &str = "libtradewire.so";
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // The test executable is <target>/<profile>/deps/c_programs-<hash>.
        let exe = std::env::current_exe().expect("current_exe");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("the test executable is in <target>/<profile>/deps")
            .to_path_buf();
        let target_dir = profile_dir.parent().expect("target directory");
        let profile = profile_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-p", "tradewire-ffi", "--lib"]);
        match profile.as_str() {
            "debug" => {}
            "release" => {
                cmd.arg("--release");
            }
            other => {
                cmd.args(["--profile", other]);
            }
        }
        let status = cmd
            .env("CARGO_TARGET_DIR", target_dir)
            .current_dir(workspace())
            .status()
            .expect("run cargo build -p tradewire-ffi");
        assert!(status.success(), "cargo build -p tradewire-ffi failed");
        assert!(
            profile_dir.join(LIB_FILE).is_file(),
            "{LIB_FILE} is not in {}",
            profile_dir.display()
        );
        soname_link(&profile_dir);
        profile_dir
    })
}

/// Programs linked to `libtradewire.so` load it by its soname (`libtradewire.so.0`, set by
/// ffi/build.rs): the link next to it, as `make lib` makes it for the build tree. Made by
/// each test process (nextest runs several at once), so a link already there is fine.
fn soname_link(dir: &Path) {
    let soname = format!("libtradewire.so.{}", env!("CARGO_PKG_VERSION_MAJOR"));
    let link = dir.join(&soname);
    if std::fs::read_link(&link).is_err() {
        let partial = dir.join(format!(".{soname}.{}", std::process::id()));
        let _ = std::fs::remove_file(&partial);
        std::os::unix::fs::symlink("libtradewire.so", &partial).expect("make the soname link");
        std::fs::rename(&partial, &link).expect("move the soname link into place");
    }
}

/// Compiles `tests/c/<name>.c` (or `.cpp` for [`Flavor::Cxx`]) once per test process and
/// returns the executable.
pub fn program(name: &str, flavor: Flavor) -> PathBuf {
    built("tests/c", name, flavor)
}

/// Compiles `examples/c/<name>.c` like a test program ([`Flavor::Sanitized`]).
pub fn example(name: &str) -> PathBuf {
    built("examples/c", name, Flavor::Sanitized)
}

fn built(dir: &str, name: &str, flavor: Flavor) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<(String, Flavor), PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built.lock().unwrap_or_else(|p| p.into_inner());
    let key = (format!("{dir}/{name}"), flavor);
    if let Some(exe) = built.get(&key) {
        return exe.clone();
    }
    let exe = compile(dir, name, flavor);
    built.insert(key, exe.clone());
    exe
}

fn compile(dir: &str, name: &str, flavor: Flavor) -> PathBuf {
    let root = workspace();
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("c-programs")
        .join(flavor.dir())
        .join(dir.replace('/', "-"));
    std::fs::create_dir_all(&out_dir).expect("create the output directory");
    let exe = out_dir.join(name);
    // Tests run in separate processes (nextest) may build the same program at once: each
    // writes its own file and renames it into place, so none runs a file being written
    // ("Text file busy").
    let partial = out_dir.join(format!(".{name}.{}", std::process::id()));
    let lib = lib_dir();
    let (compiler, source, mut args): (&str, PathBuf, Vec<String>) = match flavor {
        Flavor::Cxx => (
            "g++",
            root.join(dir).join(format!("{name}.cpp")),
            vec![
                "-std=c++17".into(),
                "-Wall".into(),
                "-Wextra".into(),
                "-Werror".into(),
            ],
        ),
        Flavor::Sanitized | Flavor::Plain => (
            "gcc",
            root.join(dir).join(format!("{name}.c")),
            ["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"]
                .map(String::from)
                .to_vec(),
        ),
    };
    if flavor == Flavor::Sanitized {
        // Any UB report fails the program (by default UBSan prints and goes on).
        args.extend(
            [
                "-fsanitize=address,undefined",
                "-fno-sanitize-recover=all",
                "-fno-omit-frame-pointer",
            ]
            .map(String::from),
        );
    }
    args.extend([
        "-g".into(),
        "-O1".into(),
        "-pthread".into(),
        format!("-I{}", root.join("include").display()),
        format!("-I{}", root.join("tests/c").display()),
        source.display().to_string(),
        "-o".into(),
        partial.display().to_string(),
        format!("-L{}", lib.display()),
        "-ltradewire".into(),
        // DT_RPATH, not DT_RUNPATH: it takes precedence over the LD_LIBRARY_PATH that cargo
        // sets for tests, so the program loads this library and no other copy.
        format!("-Wl,--disable-new-dtags,-rpath,{}", lib.display()),
    ]);
    let output = Command::new(compiler)
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("could not run {compiler}: {e}"));
    assert!(
        output.status.success(),
        "{compiler} {} failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::rename(&partial, &exe).expect("move the built program into place");
    exe
}

/// A running C program whose output is collected line by line.
pub struct Running {
    child: Child,
    name: String,
    lines: Receiver<String>,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

/// What a finished program printed.
#[derive(Debug)]
pub struct Finished {
    /// The exit status.
    pub status: ExitStatus,
    /// Standard output, by line.
    pub stdout: Vec<String>,
    /// Standard error.
    pub stderr: String,
}

impl Finished {
    /// Panics, with everything the program printed, unless it exited 0.
    pub fn assert_success(&self, what: &str) {
        assert!(
            self.status.success(),
            "{what} failed ({}).\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status,
            self.stdout.join("\n"),
            self.stderr
        );
    }

    /// The value after `key=` on the first line starting with it.
    pub fn value(&self, key: &str) -> Option<&str> {
        let prefix = format!("{key}=");
        self.stdout
            .iter()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
    }

    /// The lines that are JSON objects (events printed with `tw_event_to_json`), parsed.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.stdout
            .iter()
            .filter(|l| l.starts_with('{'))
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// The state directory (`XDG_STATE_HOME`) of every program: a temporary one per test
/// process, so that a Tradovate client's default token file never lands in the real home.
pub fn state_home() -> PathBuf {
    std::env::temp_dir().join(format!("tradewire-c-state-{}", std::process::id()))
}

/// Starts `exe` with `args`, under `wrapper` (e.g. valgrind) when given.
pub fn start(exe: &Path, args: &[&str], wrapper: &[String]) -> Running {
    let name = exe
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut cmd = match wrapper.split_first() {
        Some((tool, tool_args)) => {
            let mut c = Command::new(tool);
            c.args(tool_args).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    cmd.args(args)
        // LeakSanitizer is on by default on x86-64 Linux; said explicitly because leaks are
        // part of what these tests check (a leaked event or string fails the program). Every
        // allocation made through the API is freed by the programs and tw_client_close joins
        // the library's threads, so no other option and no suppression is needed.
        .env("ASAN_OPTIONS", "detect_leaks=1")
        .env("RUST_BACKTRACE", "1")
        .env("XDG_STATE_HOME", state_home())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {}: {e}", exe.display()));
    let stdout = Arc::new(Mutex::new(Vec::new()));
    let stderr = Arc::new(Mutex::new(String::new()));
    let (tx, lines) = mpsc::channel();
    let out = child.stdout.take().expect("piped stdout");
    let err = child.stderr.take().expect("piped stderr");
    let collected = stdout.clone();
    let out_reader = std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            collected
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(line.clone());
            let _ = tx.send(line);
        }
    });
    let collected = stderr.clone();
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(err).read_to_string(&mut text);
        collected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_str(&text);
    });
    Running {
        child,
        name,
        lines,
        stdout,
        stderr,
        readers: vec![out_reader, err_reader],
    }
}

impl Running {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for an output line matching `pred` (lines already printed count); panics with
    /// the output so far after `timeout`.
    pub fn wait_for_line(&mut self, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if pred(&line) => return line,
                Ok(_) => continue,
                Err(_) => {
                    let _ = self.child.kill();
                    panic!(
                        "{}: no expected output line within {timeout:?}.\n--- stdout ---\n{}\n--- stderr ---\n{}",
                        self.name,
                        self.stdout.lock().unwrap_or_else(|p| p.into_inner()).join("\n"),
                        self.stderr.lock().unwrap_or_else(|p| p.into_inner())
                    );
                }
            }
        }
    }

    /// Waits for the program to exit (killing it after `timeout`) and returns its output.
    pub fn finish(mut self, timeout: Duration) -> Finished {
        let deadline = Instant::now() + timeout;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(None) => {
                    let _ = self.child.kill();
                    let status = self.child.wait().expect("wait for the killed program");
                    let done = self.collect(status);
                    panic!(
                        "{} did not finish within {timeout:?} (killed).\n--- stdout ---\n{}\n--- stderr ---\n{}",
                        self.name,
                        done.stdout.join("\n"),
                        done.stderr
                    );
                }
                Err(e) => panic!("waiting for {}: {e}", self.name),
            }
        };
        self.collect(status)
    }

    fn collect(&mut self, status: ExitStatus) -> Finished {
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        Finished {
            status,
            stdout: self
                .stdout
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            stderr: self
                .stderr
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }
}
