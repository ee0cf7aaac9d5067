//! Storage: an r2d2 pool of diesel connections to the embedded SQLite file, with the
//! pragmas that keep acknowledged writes safe, and the migrations applied at start.

pub mod models;
pub mod schema;
pub mod writer;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub type Conn = SqliteConnection;
pub type DbPool = Pool<ConnectionManager<Conn>>;
pub type PooledConn = PooledConnection<ConnectionManager<Conn>>;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Per-connection settings. `synchronous=FULL` with WAL (set on the file in [`connect`]) means a
/// write the server has acknowledged survives the process being killed, and even a power cut.
#[derive(Debug, Clone, Copy)]
struct SqliteOptions;

impl CustomizeConnection<Conn, diesel::r2d2::Error> for SqliteOptions {
    fn on_acquire(&self, conn: &mut Conn) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(
            "PRAGMA busy_timeout = 10000;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;",
        )
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Accepts `sqlite://path`, `sqlite:path` or a bare file path.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// Connections in the pool: also how many jobs run at once (see `crate::gate`).
pub const POOL_SIZE: u32 = 16;

/// Opens the pool and brings the schema up to date.
pub fn connect(url: &str) -> anyhow::Result<DbPool> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        anyhow::bail!("PostgreSQL is not supported yet; use a SQLite file path");
    }
    // WAL is a property of the file: set it once, before several connections compete for it.
    {
        use diesel::Connection;
        let mut first = Conn::establish(sqlite_path(url))?;
        first.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")?;
    }
    let manager = ConnectionManager::<Conn>::new(sqlite_path(url));
    let pool = Pool::builder()
        .max_size(POOL_SIZE)
        .min_idle(Some(1))
        .connection_customizer(Box::new(SqliteOptions))
        .build(manager)?;
    let mut conn = pool.get()?;
    conn.run_pending_migrations(MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    Ok(pool)
}
