//! A throwaway PostgreSQL server for the tests that need a real one: its own cluster in a
//! temporary folder, on a free port of 127.0.0.1, started and stopped by the test itself, so
//! nothing is shared between tests and no server outlives the test that made it.
//!
//! It needs Debian's `postgresql` package (`scripts/test.sh` installs it): `initdb`, `pg_ctl`
//! and `createdb` are found through `pg_config --bindir`, else under `/usr/lib/postgresql`.
//! PostgreSQL refuses to run as root, so as root every command runs as the `postgres` user the
//! package creates (`runuser -u postgres --`).

use std::{
    ffi::OsStr,
    fs,
    net::{Ipv4Addr, TcpListener},
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::OnceLock,
};

use tempfile::TempDir;

/// The name of the database [`Postgres::start`] creates; [`Postgres::url`] points at it.
const DATABASE: &str = "selfos";

/// How many free ports [`Postgres::start`] tries: another test may take the port between the
/// moment it is found free and the moment the server binds it.
const PORT_TRIES: usize = 5;

/// A PostgreSQL server of its own, running until [`Postgres::stop`] or drop.
///
/// ```no_run
/// let mut pg = selfos_testkit::Postgres::start();
/// let url = pg.url(); // postgres://postgres@127.0.0.1:PORT/selfos
/// pg.stop(); // clients now fail to connect
/// pg.restart(); // same port, same data
/// # drop(url);
/// ```
#[derive(Debug)]
pub struct Postgres {
    /// Holds the data folder (`data/`), the server's log and its Unix socket; removed on drop.
    dir: TempDir,
    port: u16,
    running: bool,
}

impl Postgres {
    /// Makes a cluster in a temporary folder (`initdb`, trust authentication for the
    /// `postgres` user), starts it on a free port of 127.0.0.1, waits until it accepts
    /// connections and creates the database [`Postgres::url`] names.
    ///
    /// Panics with what to install when PostgreSQL is missing.
    #[track_caller]
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("selfos-pg-")
            .tempdir()
            .expect("make a temporary folder for PostgreSQL");
        if as_root() {
            // The server runs as `postgres`: it must own its folder.
            run(Command::new("chown")
                .arg("-R")
                .arg("postgres:")
                .arg(dir.path()));
        }
        let data = dir.path().join("data");
        run(pg_command("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C"])
            // Only this test ever reads the cluster; a crash of the machine may lose it.
            .arg("--no-sync"));
        let mut last = String::new();
        for _ in 0..PORT_TRIES {
            let port = free_port();
            match start_server(dir.path(), port) {
                Ok(()) => {
                    let pg = Self {
                        dir,
                        port,
                        running: true,
                    };
                    run(pg_command("createdb").args(pg.client_args()).arg(DATABASE));
                    return pg;
                }
                Err(log) => last = log,
            }
        }
        panic!("PostgreSQL did not start:\n{last}");
    }

    /// `postgres://postgres@127.0.0.1:PORT/selfos`: no password (trust), no TLS.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{DATABASE}", self.port)
    }

    /// The port it listens on, the same across [`Postgres::restart`].
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (`pg_ctl stop -m fast`: open connections are cut, committed data stays)
    /// and waits until it has exited. A no-op when it is stopped already.
    #[track_caller]
    pub fn stop(&mut self) {
        if self.running {
            run(pg_command("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-m", "fast", "-w", "stop"]));
            self.running = false;
        }
    }

    /// Stops the server if it runs, then starts it again on the same port with the same data,
    /// and waits until it accepts connections.
    #[track_caller]
    pub fn restart(&mut self) {
        self.stop();
        if let Err(log) = start_server(self.dir.path(), self.port) {
            panic!(
                "PostgreSQL did not start again on port {}:\n{log}",
                self.port
            );
        }
        self.running = true;
    }

    /// Arguments that point `createdb` (or `psql`) at this server.
    fn client_args(&self) -> [String; 6] {
        [
            "-h".into(),
            "127.0.0.1".into(),
            "-p".into(),
            self.port.to_string(),
            "-U".into(),
            "postgres".into(),
        ]
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.running {
            // Immediate: the folder is removed next, so there is nothing to flush.
            let _ = pg_command("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-m", "immediate", "-w", "stop"])
                .output();
        }
    }
}

/// `pg_ctl start -w` of the cluster in `dir/data` on `port`, its socket and log in `dir`; on
/// failure, the server's log.
fn start_server(dir: &Path, port: u16) -> Result<(), String> {
    let log = dir.join("server.log");
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1",
        dir.display()
    );
    let out = output(
        pg_command("pg_ctl")
            .arg("-D")
            .arg(dir.join("data"))
            .arg("-l")
            .arg(&log)
            .args(["-o", &options, "-w", "start"]),
    );
    if out.status.success() {
        Ok(())
    } else {
        let log = fs::read_to_string(&log).unwrap_or_default();
        Err(format!("{}{log}", describe(&out)))
    }
}

/// Whether this process runs as root, where PostgreSQL refuses to run.
fn as_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| {
        let out = output(Command::new("id").arg("-u"));
        String::from_utf8_lossy(&out.stdout).trim() == "0"
    })
}

/// `program` from PostgreSQL's binaries folder, as the `postgres` user when this is root.
fn pg_command(program: &str) -> Command {
    let path = bin_dir().join(program);
    if as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(path);
        command
    } else {
        Command::new(path)
    }
}

/// Where `initdb` and `pg_ctl` are: `pg_config --bindir`, else the newest
/// `/usr/lib/postgresql/VERSION/bin` (Debian keeps them off the `PATH`).
#[track_caller]
fn bin_dir() -> PathBuf {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let from_pg_config = Command::new("pg_config")
            .arg("--bindir")
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        let debian = fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path().join("bin"))
            .filter(|bin| has_initdb(bin))
            // Version folders are numbers: the longest, then the greatest, is the newest.
            .max_by_key(|bin| {
                let version = bin.parent().and_then(Path::file_name).map(OsStr::len);
                (version, bin.clone())
            });
        from_pg_config.filter(|bin| has_initdb(bin)).or(debian)
    })
    .clone()
    .unwrap_or_else(|| {
        panic!(
            "PostgreSQL is not installed (no initdb found through pg_config or under \
             /usr/lib/postgresql): install Debian's postgresql package \
             (apt-get install postgresql); scripts/test.sh does"
        )
    })
}

fn has_initdb(bin: &Path) -> bool {
    bin.join("initdb").is_file()
}

/// A port of 127.0.0.1 that nothing listens on right now.
#[track_caller]
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("find a free port")
        .port()
}

#[track_caller]
fn output(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("run {command:?}: {e}"))
}

#[track_caller]
fn run(command: &mut Command) {
    let out = output(command);
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        describe(&out)
    );
}

fn describe(out: &Output) -> String {
    format!(
        "{}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `sql` through `psql` against `pg`'s database; the output rows, or the failure.
    fn psql(pg: &Postgres, sql: &str) -> Result<String, String> {
        let out = output(pg_command("psql").args(pg.client_args()).args([
            "-d",
            DATABASE,
            "-X",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ]));
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        } else {
            Err(describe(&out))
        }
    }

    #[test]
    fn serves_its_database_keeps_data_across_a_restart_and_refuses_while_stopped() {
        let mut pg = Postgres::start();
        assert_eq!(
            pg.url(),
            format!("postgres://postgres@127.0.0.1:{}/selfos", pg.port())
        );
        psql(&pg, "CREATE TABLE t (v INT); INSERT INTO t VALUES (7)").unwrap();

        pg.stop();
        assert!(
            psql(&pg, "SELECT v FROM t").is_err(),
            "a stopped server answered"
        );

        let port = pg.port();
        pg.restart();
        assert_eq!(pg.port(), port);
        assert_eq!(psql(&pg, "SELECT v FROM t").unwrap(), "7");

        // A restart of a running server works too.
        pg.restart();
        assert_eq!(psql(&pg, "SELECT v FROM t").unwrap(), "7");
    }

    /// Whether process `pid` runs: it exists and is not a zombie waiting for its new parent
    /// (the postmaster is a daemon: it is not this process's child) to reap it.
    fn alive(pid: &str) -> bool {
        fs::read_to_string(Path::new("/proc").join(pid).join("stat")).is_ok_and(|stat| {
            !stat
                .rsplit_once(") ")
                .is_some_and(|(_, s)| s.starts_with('Z'))
        })
    }

    #[test]
    fn drop_stops_the_server_and_removes_its_folder() {
        let pg = Postgres::start();
        let dir = pg.dir.path().to_path_buf();
        let port = pg.port();
        let pid_file = pg.data().join("postmaster.pid");
        let pid = fs::read_to_string(&pid_file).unwrap();
        let pid = pid.lines().next().unwrap().to_owned();
        assert!(alive(&pid));
        drop(pg);

        // The postmaster has exited (`pg_ctl stop -w` waits for that) and nothing listens.
        assert!(!alive(&pid), "postmaster {pid} outlived drop");
        assert!(std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err());
        assert!(!dir.exists());
    }

    #[test]
    fn two_servers_run_side_by_side() {
        let a = Postgres::start();
        let b = Postgres::start();
        assert_ne!(a.port(), b.port());
        psql(&a, "CREATE TABLE only_in_a (v INT)").unwrap();
        assert!(psql(&b, "SELECT * FROM only_in_a").is_err());
    }
}
