//! The SQLite file a story's daemon uses, opened from the test: for seeding rows a person would
//! have made over time (confirmed subscribers) and reading results back.

use mimic::domain::{ComponentId, EmailAddress, Timestamp};
use mimic::store::{subscribers, Store};
use sqlx::pool::PoolConnection;
use sqlx::Sqlite;
use std::time::Duration;

/// Opens (creating and migrating) the database at `url` with one connection from its pool.
pub async fn open(url: &str) -> (Store, PoolConnection<Sqlite>) {
    let store = Store::open(url).await.unwrap_or_else(|e| panic!("{e}"));
    let conn = store
        .pool()
        .acquire()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (store, conn)
}

/// Seeds `n` confirmed subscribers (no component filter) into the database `cfg`'s daemon will
/// use, before it starts.
pub async fn seed_subscribers_before_start(cfg: &super::config::TestConfig, n: usize) {
    let config = cfg.load();
    let (store, mut conn) = open(&config.server.database).await;
    seed_subscribers(&mut conn, n, |_| Vec::new()).await;
    drop(conn);
    store.close().await;
}

/// Signs up and confirms `readerN@example.org` for N in `0..n`; `components(N)` is the
/// component filter of subscriber N (empty: everything).
pub async fn seed_subscribers(
    conn: &mut sqlx::SqliteConnection,
    n: usize,
    components: impl Fn(usize) -> Vec<ComponentId>,
) {
    let now = Timestamp::now();
    for i in 0..n {
        let addr = EmailAddress::parse(&format!("reader{i}@example.org"))
            .unwrap_or_else(|e| panic!("{e}"));
        let token = format!("{i:048x}");
        let leave = format!("{:048x}", i + 1_000_000);
        subscribers::sign_up(
            conn,
            &addr,
            &components(i),
            &token,
            &leave,
            now.plus(Duration::from_secs(60)),
            now,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        subscribers::confirm(conn, &token, now)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

/// A read-only connection to the SQLite file at `db`, as another program on the machine would
/// open it while the daemon runs (WAL lets it read beside the writer).
pub async fn read_only(db: &std::path::Path) -> sqlx::SqliteConnection {
    use sqlx::ConnectOptions;
    sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("opening {} read-only: {e}", db.display()))
}
