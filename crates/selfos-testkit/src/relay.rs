//! The `selfos-relay` binary as a child process, for the tests that need what only a process
//! has: a `main` that parses flags and prints where it listens, signals, a kill that leaves no
//! close frame behind, a restart on the same port.

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
}

impl RelayProcess {
    /// Starts `bin --listen LISTEN ARGS…` in the folder `dir` and waits for its first line,
    /// `listening on ADDR`. While `listen` is still held (a restart on the port of a relay just
    /// killed) it tries again, for two seconds.
    ///
    /// The relay logs warnings and errors to this process's stderr; `SELFOS_RELAY_WEB_ROOT` is
    /// removed from its environment, so only `dir` and `args` decide what it serves.
    #[track_caller]
    pub fn start(bin: &Path, listen: SocketAddr, dir: &Path, args: &[&str]) -> Self {
        let mut command = Command::new(bin);
        command
            .current_dir(dir)
            .args(["--listen", &listen.to_string()])
            .args(args)
            .env("RUST_LOG", "warn")
            .env_remove("SELFOS_RELAY_WEB_ROOT")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut last = String::new();
        for _ in 0..TRIES {
            let mut child = command.spawn().expect("start the relay binary");
            let mut line = String::new();
            let stdout = child.stdout.take().expect("the relay's stdout is piped");
            BufReader::new(stdout)
                .read_line(&mut line)
                .expect("read the relay's first line");
            if let Some(addr) = line.trim().strip_prefix("listening on ") {
                let addr = addr.parse().expect("the relay prints a socket address");
                return Self { child, addr };
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
