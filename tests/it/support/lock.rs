//! Another process holding SQLite's write lock: python3's sqlite3 module (as any other program
//! on the machine might) runs `begin immediate` and keeps the transaction open.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A process holding the database's write lock until it exits.
pub struct WriteLock {
    child: Child,
}

impl WriteLock {
    /// Takes the write lock on `db` for `hold`, returning once it is held.
    pub fn hold(db: &Path, hold: Duration) -> WriteLock {
        let script = format!(
            "import sqlite3, sys, time\n\
             c = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)\n\
             c.execute('begin immediate')\n\
             print('locked', flush=True)\n\
             time.sleep({})\n\
             c.execute('rollback')\n",
            hold.as_secs_f64()
        );
        let mut child = Command::new("python3")
            .args(["-c", &script, &db.to_string_lossy()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("python3: {e}"));
        let out = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let mut line = String::new();
        BufReader::new(out)
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("reading the lock holder: {e}"));
        assert_eq!(
            line.trim(),
            "locked",
            "the lock holder did not get the lock"
        );
        WriteLock { child }
    }

    /// Waits until the holder has let go.
    pub fn wait(mut self) {
        let status = self.child.wait().unwrap_or_else(|e| panic!("{e}"));
        assert!(status.success(), "lock holder failed: {status}");
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs one SQL statement on `db` from another process (python3's sqlite3).
pub fn execute(db: &Path, sql: &str) {
    let status = Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)\nc.execute(sys.argv[2])\n",
            &db.to_string_lossy(),
            sql,
        ])
        .status()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    assert!(status.success(), "{sql} failed");
}
