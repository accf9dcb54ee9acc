//! The `selfos-relay` binary as a child process, for the tests that need what only a process
//! has: a `main` that parses flags and prints where it listens, signals, a kill that leaves no
//! close frame behind, a restart on the same port (and the same store).
//!
//! The relay keeps rooms' blobs in a store; unless the flags name one (`--store none`, another
//! file, a database URL), each [`RelayProcess`] gets a SQLite store in a temporary folder of its
//! own, kept across [`RelayProcess::restart`] and deleted when the process value is dropped. So
//! no test writes into its working folder, and no two relays share a store by accident.

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::OnceLock,
    time::Duration,
};

/// How often [`RelayProcess::start`] tries while its port is still held, and how long it waits
/// between tries: two seconds in all, far more than the kernel takes to free the port of a
/// process just killed.
const TRIES: usize = 100;
const RETRY_AFTER: Duration = Duration::from_millis(20);

/// The `selfos-relay` binary of this checkout, built once per test run (a no-op when it is
/// fresh). The relay's own tests have it from Cargo (`CARGO_BIN_EXE_selfos-relay`); the other
/// crates' tests cannot name another package's binary, so this builds it.
#[track_caller]
pub fn relay_binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // The test executable is target/<profile>/deps/<name>-<hash>.
        let exe = std::env::current_exe().expect("the test executable's path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("the test executable lies in target/<profile>/deps");
        let target_dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .or_else(|| profile_dir.parent().map(Path::to_path_buf))
            .expect("the target folder");
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "selfos-relay", "--bin", "selfos-relay"])
            .env("CARGO_TARGET_DIR", &target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building selfos-relay failed");
        let bin = target_dir.join("debug").join("selfos-relay");
        assert!(bin.exists(), "{} missing", bin.display());
        bin
    })
    .clone()
}

/// The relay binary running as a child process; killed (SIGKILL) and reaped when dropped, so a
/// failing test leaves no relay behind.
#[derive(Debug)]
pub struct RelayProcess {
    child: Child,
    /// Where it listens, as it printed.
    pub addr: SocketAddr,
    launch: Launch,
}

/// What a restart repeats.
#[derive(Debug)]
struct Launch {
    bin: PathBuf,
    dir: PathBuf,
    args: Vec<String>,
    /// The folder of the default store (`None` when the flags name a store).
    store: Option<tempfile::TempDir>,
    /// A file that gets the relay's logs at info level, instead of warnings on this stderr.
    log: Option<PathBuf>,
}

impl RelayProcess {
    /// Starts `bin --listen LISTEN ARGS…` in the folder `dir` and waits for its first line,
    /// `listening on ADDR`. While `listen` is still held (a restart on the port of a relay just
    /// killed) it tries again, for two seconds.
    ///
    /// Without `--store` in `args`, the relay gets a SQLite store in a temporary folder of this
    /// value ([`RelayProcess::store_dir`]); pass `--store none` for a relay without a store.
    ///
    /// The relay logs warnings and errors to this process's stderr; `SELFOS_RELAY_WEB_ROOT` and
    /// every `SELFOS_RELAY_STORE*` variable are removed from its environment, so only `dir` and
    /// `args` decide what it serves and keeps.
    #[track_caller]
    pub fn start(bin: &Path, listen: SocketAddr, dir: &Path, args: &[&str]) -> Self {
        Self::start_with_log(bin, listen, dir, args, None)
    }

    /// [`RelayProcess::start`], with the relay's logs at info level (what an operator keeps by
    /// default) appended to the file `log`, for a test to read what a relay writes down.
    #[track_caller]
    pub fn start_logged(
        bin: &Path,
        listen: SocketAddr,
        dir: &Path,
        args: &[&str],
        log: &Path,
    ) -> Self {
        Self::start_with_log(bin, listen, dir, args, Some(log.to_path_buf()))
    }

    #[track_caller]
    fn start_with_log(
        bin: &Path,
        listen: SocketAddr,
        dir: &Path,
        args: &[&str],
        log: Option<PathBuf>,
    ) -> Self {
        let names_store = args
            .iter()
            .any(|a| *a == "--store" || a.starts_with("--store="));
        let store = (!names_store).then(|| {
            tempfile::Builder::new()
                .prefix("selfos-relay-store")
                .tempdir()
                .expect("a temporary folder for the relay's store")
        });
        let launch = Launch {
            bin: bin.to_path_buf(),
            dir: dir.to_path_buf(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            store,
            log,
        };
        Self::launch(launch, listen)
    }

    /// The folder of the relay's default store, if the flags named none.
    pub fn store_dir(&self) -> Option<&Path> {
        self.launch.store.as_ref().map(tempfile::TempDir::path)
    }

    /// Stops the relay (SIGKILL, unless it has exited already) and starts it again with the same
    /// flags on the same address and store.
    #[track_caller]
    pub fn restart(mut self) -> Self {
        let _ = self.child.kill();
        self.child.wait().expect("reap the relay");
        let addr = self.addr;
        // `self` is dropped without its temporary folder, which moves to the new process.
        let launch = Launch {
            bin: std::mem::take(&mut self.launch.bin),
            dir: std::mem::take(&mut self.launch.dir),
            args: std::mem::take(&mut self.launch.args),
            store: self.launch.store.take(),
            log: self.launch.log.take(),
        };
        Self::launch(launch, addr)
    }

    #[track_caller]
    fn launch(launch: Launch, listen: SocketAddr) -> Self {
        let mut command = Command::new(&launch.bin);
        command
            .current_dir(&launch.dir)
            .args(["--listen", &listen.to_string()])
            .args(&launch.args)
            .env_remove("SELFOS_RELAY_WEB_ROOT")
            .stdout(Stdio::piped());
        for var in [
            "SELFOS_RELAY_STORE",
            "SELFOS_RELAY_STORE_MAX_BYTES",
            "SELFOS_RELAY_STORE_MAX_BLOBS",
            "SELFOS_RELAY_STORE_MAX_BLOB_LEN",
            "SELFOS_RELAY_STORE_EXPIRY",
            "SELFOS_RELAY_STORE_UPLOAD_BUFFER",
        ] {
            command.env_remove(var);
        }
        if let Some(store) = &launch.store {
            let mut flag = std::ffi::OsString::from("sqlite:");
            flag.push(store.path().join("store.db"));
            command.arg("--store").arg(flag);
        }
        let mut last = String::new();
        for _ in 0..TRIES {
            match &launch.log {
                None => command.env("RUST_LOG", "warn").stderr(Stdio::inherit()),
                Some(path) => {
                    let file = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .expect("open the relay's log file");
                    command.env("RUST_LOG", "info").stderr(file)
                }
            };
            let mut child = command.spawn().expect("start the relay binary");
            let mut line = String::new();
            let stdout = child.stdout.take().expect("the relay's stdout is piped");
            BufReader::new(stdout)
                .read_line(&mut line)
                .expect("read the relay's first line");
            if let Some(addr) = line.trim().strip_prefix("listening on ") {
                let addr = addr.parse().expect("the relay prints a socket address");
                return Self {
                    child,
                    addr,
                    launch,
                };
            }
            // No line: it could not bind (the port is not free yet).
            let _ = child.wait();
            last = line;
            std::thread::sleep(RETRY_AFTER);
        }
        panic!("the relay did not start on {listen}: {last:?}");
    }

    /// SIGKILL: no drain, no close frames; connections just break.
    #[track_caller]
    pub fn kill(mut self) {
        self.child.kill().expect("kill the relay");
        self.child.wait().expect("reap the relay");
    }

    /// SIGTERM: the relay drains its connections and exits; [`RelayProcess::wait`] for it.
    #[track_caller]
    pub fn terminate(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed: {sent}");
    }

    /// Waits for the relay to exit (after [`RelayProcess::terminate`]) and returns how it did.
    #[track_caller]
    pub fn wait(mut self) -> ExitStatus {
        self.exited()
    }

    /// [`RelayProcess::wait`], keeping the value for a [`RelayProcess::restart`].
    #[track_caller]
    pub fn exited(&mut self) -> ExitStatus {
        self.child.wait().expect("wait for the relay")
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        // After `kill` or `wait` the child has exited already, and both return at once.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
