//! Storage: an r2d2 pool of diesel connections, to the embedded SQLite file by default or to
//! PostgreSQL when the database URL says `postgres://`, and the migrations applied at start.
//! Every query is written once, in diesel's DSL, for both ([`Conn`] is either).

pub mod models;
pub mod reused;
pub mod schema;
pub mod writer;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{CustomizeConnection, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionResult};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// A connection to either backend: queries in diesel's DSL run on both.
#[derive(diesel::MultiConnection)]
pub enum Conn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// `diesel::RunQueryDsl::execute($query, c)` on the backend's own connection `c`: for the
/// statements diesel's connection over both backends cannot say (a batch insert), and for the
/// inserts of every save and submit, whose SQL is then written once, not again through the
/// connection over both backends (diesel still prepares them anew: their optional columns).
#[macro_export]
macro_rules! execute_on_backend {
    ($conn:expr, $query:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite(c) => diesel::RunQueryDsl::execute($query, c),
            $crate::db::Conn::Postgres(c) => diesel::RunQueryDsl::execute($query, c),
        }
    };
}

/// `diesel::RunQueryDsl::$method($query, c)` (`first`, `load`, `get_result`) on the backend's own
/// connection `c`: for the reads every request makes, and the writes that answer with a row
/// (`RETURNING`, with [`reused::Reused`]). Through the connection over both backends,
/// each statement's SQL is written out anew to find it among the prepared ones (an eighth of a
/// kept page's CPU); on the backend's own, diesel finds a statement whose text is fixed by its
/// type without writing anything.
#[macro_export]
macro_rules! read_on_backend {
    ($conn:expr, $method:ident, $query:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite(c) => diesel::RunQueryDsl::$method($query, c),
            $crate::db::Conn::Postgres(c) => diesel::RunQueryDsl::$method($query, c),
        }
    };
}

pub type DbPool = Pool<Manager>;
pub type PooledConn = PooledConnection<Manager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Which database a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A file: `sqlite://path`, `sqlite:path` or a bare path.
    Sqlite(String),
    /// `postgres://…` or `postgresql://…`, as libpq reads it.
    Postgres(String),
}

impl Target {
    pub fn of(url: &str) -> Target {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Target::Postgres(url.to_owned())
        } else {
            Target::Sqlite(sqlite_path(url).to_owned())
        }
    }

    /// How the database is named to a person: the file's path, or the URL without its password.
    pub fn shown(&self) -> String {
        match self {
            Target::Sqlite(path) => path.clone(),
            Target::Postgres(url) => without_password(url),
        }
    }
}

/// `postgres://user:secret@host/db` as `postgres://user@host/db`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((user, host)) => {
            let user = user.split_once(':').map_or(user, |(u, _)| u);
            format!("{scheme}://{user}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

/// Accepts `sqlite://path`, `sqlite:path` or a bare file path.
fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// Opens one connection to `target`, without the pool's per-connection settings.
pub fn establish(target: &Target) -> ConnectionResult<Conn> {
    Ok(match target {
        Target::Sqlite(path) => Conn::Sqlite(SqliteConnection::establish(path)?),
        Target::Postgres(url) => Conn::Postgres(PgConnection::establish(url)?),
    })
}

/// The pool's connection manager: it opens the backend the URL names, and only that one
/// (diesel's own would try each backend in turn, and SQLite accepts any string as a file).
#[derive(Debug, Clone)]
pub struct Manager {
    target: Target,
}

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Conn, Self::Error> {
        establish(&self.target).map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// Per-connection settings. On SQLite, `synchronous=FULL` with WAL (set on the file in
/// [`connect`]) means a write the server has acknowledged survives the process being killed,
/// and even a power cut; PostgreSQL's defaults (`fsync`, `synchronous_commit = on`) do the same.
#[derive(Debug, Clone, Copy)]
struct Settings;

impl CustomizeConnection<Conn, diesel::r2d2::Error> for Settings {
    fn on_acquire(&self, conn: &mut Conn) -> Result<(), diesel::r2d2::Error> {
        let settings = match conn {
            Conn::Sqlite(_) => {
                "PRAGMA busy_timeout = 10000;
                 PRAGMA synchronous = FULL;
                 PRAGMA foreign_keys = ON;"
            }
            // Times are stored as written (UTC, without a zone); a statement or a lock wait
            // that hangs gives up rather than holding a connection for ever.
            Conn::Postgres(_) => {
                "SET TIME ZONE 'UTC';
                 SET statement_timeout = '120s';
                 SET lock_timeout = '30s';
                 SET idle_in_transaction_session_timeout = '120s';"
            }
        };
        conn.batch_execute(settings)
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Connections in the pool: also how many jobs run at once (see `crate::gate`).
pub const POOL_SIZE: u32 = 16;

/// Opens the pool and brings the schema up to date.
pub fn connect(url: &str) -> anyhow::Result<DbPool> {
    let target = Target::of(url);
    if let Target::Sqlite(path) = &target {
        // WAL is a property of the file: set it once, before several connections compete for it.
        let mut first = SqliteConnection::establish(path)?;
        first.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")?;
    }
    let pool = Pool::builder()
        .max_size(POOL_SIZE)
        .min_idle(Some(1))
        // A connection to a file cannot go stale the way one over the network can: on SQLite
        // each checkout would run a `SELECT 1` for nothing (one statement more per request).
        .test_on_check_out(matches!(target, Target::Postgres(_)))
        .connection_customizer(Box::new(Settings))
        .build(Manager {
            target: target.clone(),
        })
        .map_err(|e| anyhow::anyhow!("không kết nối được cơ sở dữ liệu {}: {e}", target.shown()))?;
    let mut conn = pool.get()?;
    migrate(&mut conn)?;
    Ok(pool)
}

/// Applies the pending migrations of the connection's backend.
pub fn migrate(conn: &mut Conn) -> anyhow::Result<()> {
    let migrations = match conn {
        Conn::Sqlite(_) => SQLITE_MIGRATIONS,
        Conn::Postgres(_) => POSTGRES_MIGRATIONS,
    };
    let postgres = matches!(conn, Conn::Postgres(_));
    if postgres {
        // Several servers may start at once on one database: one migrates, the others wait.
        conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
    }
    let applied = conn
        .run_pending_migrations(migrations)
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("migrations failed: {e}"));
    if postgres {
        conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
    }
    applied
}

/// A transaction that writes, taking the write lock at its start on SQLite (`BEGIN
/// IMMEDIATE`: it cannot fail half-way for a lock another writer took first); on PostgreSQL an
/// ordinary one, rows being locked as they are written. Inside a transaction, a savepoint.
pub fn write_lock_transaction<T, E>(
    conn: &mut Conn,
    f: impl FnOnce(&mut Conn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    begun_with(conn, "BEGIN IMMEDIATE", "BEGIN", f)
}

/// A transaction whose reads all see one snapshot, however many statements it takes, while
/// others write: on SQLite any transaction (in WAL mode, from its first read); on PostgreSQL
/// `REPEATABLE READ` (each statement would see the latest commits otherwise).
pub fn snapshot_transaction<T, E>(
    conn: &mut Conn,
    f: impl FnOnce(&mut Conn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    begun_with(conn, "BEGIN", "BEGIN ISOLATION LEVEL REPEATABLE READ", f)
}

/// Runs `f` in a transaction opened with `sqlite` or `postgres` (a `BEGIN` statement).
fn begun_with<T, E>(
    conn: &mut Conn,
    sqlite: &str,
    postgres: &str,
    f: impl FnOnce(&mut Conn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    if in_transaction(conn) {
        return conn.transaction(f);
    }
    match conn {
        Conn::Sqlite(inner) => AnsiTransactionManager::begin_transaction_sql(inner, sqlite)?,
        Conn::Postgres(inner) => AnsiTransactionManager::begin_transaction_sql(inner, postgres)?,
    }
    match f(conn) {
        Ok(value) => {
            <Conn as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            <Conn as Connection>::TransactionManager::rollback_transaction(conn)
                .map_err(E::from)?;
            Err(e)
        }
    }
}

/// Takes, until the transaction ends, the whole round's turn to build its live consolidations
/// anew (`service::rollup::live::rebuild`), or to merge them outside a transaction that merges
/// at its end: no unit of the round is merged meanwhile (see [`lock_merge`]). On SQLite a
/// writing transaction holds the whole file already.
pub fn lock_round(conn: &mut Conn, round_id: i32) -> diesel::QueryResult<()> {
    if let Conn::Postgres(pg) = conn {
        use diesel::RunQueryDsl;
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind::<diesel::sql_types::Integer, _>(ROUND_LOCKS)
            .bind::<diesel::sql_types::Integer, _>(round_id)
            .execute(pg)?;
    }
    Ok(())
}

/// Takes, until the transaction ends, the turn to merge one unit's live consolidation in a
/// round (`service::rollup::live`): on PostgreSQL, where several connections (and several
/// servers) write at once, two changes below one unit must not each merge it from what they
/// saw before the other committed. Each change merges the units above it, deepest first, each
/// in its turn, and commits holding them: statements after a turn see every change committed
/// before it, so the last to merge a unit sees every change below it. Units are merged in
/// turns of their own (the districts of a province at once, only the province one at a time);
/// the round's own turn ([`lock_round`]) is shared by them, so a rebuild waits for them and
/// they for it. On SQLite a writing transaction holds the whole file already.
pub fn lock_merge(conn: &mut Conn, round_id: i32, unit_id: i32) -> diesel::QueryResult<()> {
    if let Conn::Postgres(pg) = conn {
        use diesel::RunQueryDsl;
        use diesel::sql_types::{BigInt, Integer};
        // A unit's key: the round in the high half, the unit in the low. PostgreSQL keeps
        // single-key locks apart from two-key ones; the migration's key is below 2^32.
        let unit_key = (i64::from(round_id) << 32) | i64::from(unit_id as u32);
        diesel::sql_query("SELECT pg_advisory_xact_lock_shared($1, $2), pg_advisory_xact_lock($3)")
            .bind::<Integer, _>(ROUND_LOCKS)
            .bind::<Integer, _>(round_id)
            .bind::<BigInt, _>(unit_key)
            .execute(pg)?;
    }
    Ok(())
}

/// The PostgreSQL advisory lock that [`migrate`] takes.
const MIGRATION_LOCK: i64 = 7_261_001;
/// The class of PostgreSQL advisory locks that [`lock_round`] and [`lock_merge`] take (the
/// second key is the round).
const ROUND_LOCKS: i32 = 7_261_002;

/// Whether `conn` is inside a transaction already.
pub fn in_transaction(conn: &mut Conn) -> bool {
    use diesel::connection::TransactionManager;
    <Conn as Connection>::TransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .ok()
        .flatten()
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `.cargo/config.toml` builds SQLite with the planner's stability guarantee: without it
    /// every `.first()` (a bound `LIMIT`) is compiled again on each run.
    #[test]
    fn sqlite_plans_a_statement_once() {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Opt {
            #[diesel(sql_type = diesel::sql_types::Text)]
            compile_options: String,
        }
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        let options: Vec<Opt> =
            diesel::sql_query("SELECT compile_options FROM pragma_compile_options")
                .load(&mut conn)
                .unwrap();
        assert!(
            options.iter().any(|o| o.compile_options == "ENABLE_QPSG"),
            "SQLite was built without SQLITE_ENABLE_QPSG"
        );
    }

    #[test]
    fn a_url_names_its_backend_and_is_shown_without_its_password() {
        assert_eq!(Target::of("/tmp/a.db"), Target::Sqlite("/tmp/a.db".into()));
        assert_eq!(
            Target::of("sqlite:///tmp/a.db"),
            Target::Sqlite("/tmp/a.db".into())
        );
        let pg = Target::of("postgres://baocao:bí-mật@db.local:5432/baocao");
        assert!(matches!(pg, Target::Postgres(_)));
        assert_eq!(pg.shown(), "postgres://baocao@db.local:5432/baocao");
        assert_eq!(
            Target::of("postgresql://db/baocao").shown(),
            "postgresql://db/baocao"
        );
    }
}
