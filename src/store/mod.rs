//! SQLite storage: the only place with SQL. Opened once with WAL and a busy timeout; schema only
//! through `migrations/`. Functions take a connection so orchestrators compose transactions.
//!
//! Three ways in, so readers never queue behind the pipeline: the pipeline's writer opens a
//! connection of its own ([`Store::connect_writer`]); people's writes (admin, sign-ups, the
//! outbox) share a small write pool ([`Store::begin_write`]); reads (the page snapshot, admin
//! reads, health) use their own pool ([`Store::pool`]). WAL lets reads run beside a write.

pub mod channels;
pub mod gates;
pub mod incidents;
pub mod mail_events;
pub mod maintenances;
pub mod outbox;
pub mod probe_states;
pub mod rollups;
pub mod runs;
pub mod subscribers;

mod lock;

pub use lock::{DatabaseLock, LockError};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// SQLite's limit on bound variables per statement is 32 766 in the bundled build; multi-row
/// statements keep well under it (and under old builds' 999) by binding at most this many.
pub const MAX_BINDS: usize = 900;

/// How long a connection waits for SQLite's write lock before the statement fails as busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database URL does not parse.
    #[error("invalid database URL {url:?}: {source}")]
    Url {
        /// The URL as configured.
        url: String,
        /// The parser's complaint.
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("migrating the database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    /// A value could not be encoded for storage.
    #[error("encoding for storage failed: {0}")]
    Encode(String),
}

impl Error {
    /// Whether waiting and trying again can fix it: the database is busy or locked by another
    /// connection, a pool ran dry, or the disk is full or failing for the moment. Anything else
    /// (a missing table, a constraint, corruption, a statement SQLite refuses) is for good.
    pub fn is_transient(&self) -> bool {
        let Error::Sql(e) = self else { return false };
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => true,
            sqlx::Error::Database(db) => {
                // Primary result codes: BUSY 5, LOCKED 6, IOERR 10, FULL 13, PROTOCOL 15.
                let code = db.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0);
                matches!(code & 0xff, 5 | 6 | 10 | 13 | 15)
            }
            _ => false,
        }
    }
}

/// The database handle.
#[derive(Debug, Clone)]
pub struct Store {
    options: SqliteConnectOptions,
    reads: SqlitePool,
    writes: SqlitePool,
}

impl Store {
    /// Opens (creating if missing) and migrates the database at `url` (`sqlite://file.db` or a path).
    pub async fn open(url: &str) -> Result<Store, Error> {
        let options = connect_options(url)?;
        let writes = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations").run(&writes).await?;
        let reads = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await?;
        Ok(Store {
            options,
            reads,
            writes,
        })
    }

    /// The pool for reads (and for tests and tools that write outside the daemon).
    pub fn pool(&self) -> &SqlitePool {
        &self.reads
    }

    /// Opens a connection of the caller's own, outside every pool: the pipeline's writer.
    pub async fn connect_writer(&self) -> Result<SqliteConnection, Error> {
        Ok(self.options.connect().await?)
    }

    /// Begins a write transaction that takes SQLite's write lock at once, so two writers queue
    /// on the busy timeout instead of failing when one upgrades a read.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, Error> {
        Ok(self.writes.begin_with("begin immediate").await?)
    }

    /// Whether a read answers (for `/readyz`).
    pub async fn ping(&self) -> bool {
        sqlx::query("select 1").execute(&self.reads).await.is_ok()
    }

    /// Closes every pooled connection, checkpointing the WAL.
    pub async fn close(&self) {
        self.reads.close().await;
        self.writes.close().await;
    }
}

/// Connection options for `url`: WAL, NORMAL sync, foreign keys, a busy timeout.
fn connect_options(url: &str) -> Result<SqliteConnectOptions, Error> {
    let normalized = if url.starts_with("sqlite:") {
        url.to_owned()
    } else {
        format!("sqlite://{url}")
    };
    Ok(SqliteConnectOptions::from_str(&normalized)
        .map_err(|source| Error::Url {
            url: url.to_owned(),
            source,
        })?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL in WAL mode: a commit survives kill -9; only a power cut may lose the tail.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT))
}

/// Begins an immediate write transaction on the caller's own connection (the pipeline's writer).
pub async fn begin_immediate(
    conn: &mut SqliteConnection,
) -> Result<sqlx::Transaction<'_, sqlx::Sqlite>, Error> {
    use sqlx::Connection;
    Ok(conn.begin_with("begin immediate").await?)
}

/// Rows per statement for a multi-row insert binding `binds_per_row` values each.
pub fn rows_per_statement(binds_per_row: usize) -> usize {
    (MAX_BINDS / binds_per_row.max(1)).max(1)
}

/// The database file `url` names, or `None` for an in-memory database.
pub fn database_path(url: &str) -> Result<Option<std::path::PathBuf>, Error> {
    let options = connect_options(url)?;
    let f = options.get_filename();
    Ok((f.as_os_str() != ":memory:").then(|| f.to_owned()))
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_gates;
