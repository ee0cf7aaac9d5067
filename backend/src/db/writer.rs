//! Group commit: the server's writes go through one connection, and the writes that arrive
//! while one commit is being made to disk are committed together in the next.
//!
//! A write runs, in its turn, inside the group's open transaction, in a savepoint of its own: a
//! write that fails is rolled back to its savepoint and changes nothing, the others stand. The
//! last write of a group (the one that finds nobody waiting for a turn, or the one that fills
//! the group) commits it; every write of the group is answered only once that commit is on
//! disk, and if it fails, every write of the group fails with it.
//!
//! The commit writes the group's pages to the write-ahead log (`synchronous = NORMAL` on this
//! connection: no flush yet) and lets the next group start; a thread of the writer's own then
//! flushes the log (`fdatasync`, what `synchronous = FULL` does at each commit), once for every
//! group committed while it flushed the one before. The log is only appended to, so a flush
//! makes every earlier group durable too; SQLite flushes the log itself before a checkpoint
//! copies it into the database. A write returns once its group is committed, so that what the
//! request reads next sees it; the request is answered only once the group is on disk
//! ([`Writer::durable`], awaited without holding a thread or a database job). A group's
//! changes are visible to readers a moment before they are durable; a later write that depends
//! on them is in a later group, which is answered only after a flush that covers both. Groups
//! are answered in their order. A failed flush fails every group not yet known to be on disk,
//! and the writer takes no write again until the server restarts (what was committed since may
//! not be on disk).
//! Threads are bounded by the gate in front (`crate::gate`): at most its running jobs wait here.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use super::Conn;

/// Writes in one group at most: a commit is not put off without end.
const MAX_GROUP: usize = 64;

/// Groups whose writes wait apart (more are rarely uncommitted at once).
const SLOTS: usize = 8;

fn slot(group: u64) -> usize {
    (group % SLOTS as u64) as usize
}

pub struct Writer {
    shared: Mutex<Shared>,
    /// What is committed and what is on disk: kept apart from the connection, so that
    /// answering a group never waits for the next group's writes.
    log: Arc<Log>,
    /// Threads waiting for their turn to write: while there are, a group stays open for them.
    waiting: AtomicUsize,
    /// The thread flushing the log.
    flusher: Option<std::thread::JoinHandle<()>>,
}

struct Shared {
    conn: Conn,
    /// A group's transaction is open.
    open: bool,
    /// The open group's number (or the last one's, when none is open).
    group: u64,
    /// Writes run in the open group.
    jobs: usize,
    /// What the group's writes left to do once, before it commits (see [`defer`]).
    deferred: BTreeMap<DeferKey, Deferred>,
}

struct Log {
    done: Mutex<Done>,
    /// Signalled when a group is committed or fails, in the slot of its number: a write waits
    /// in its group's, so a commit wakes the writes of its group, not those of the next.
    slots: [Condvar; SLOTS],
    /// Signalled when a group is committed, or the writer closes: the flusher waits for it.
    wanted: Condvar,
    /// The write-ahead log, flushed after the groups' commits.
    wal: std::path::PathBuf,
    /// Every group up to this one is settled: what requests wait on to be answered.
    settled: tokio::sync::watch::Sender<u64>,
}

#[derive(Default)]
struct Done {
    /// Every group up to this one is settled: on disk, or failed.
    settled: u64,
    /// The last group committed to the log (groups commit in their order).
    committed: u64,
    /// Every group committed up to this one is on disk.
    flushed: u64,
    /// The recent groups that failed, and why.
    failed: BTreeMap<u64, String>,
    /// A flush failed: what was written since may not be on disk, and nothing is written again
    /// until the server restarts (SQLite then reads the log back as far as it is whole).
    broken: Option<String>,
    /// The writer is closing: the flusher flushes what is committed, and stops.
    closing: bool,
}

/// Orders the deferred tasks of a group; one task per key.
pub type DeferKey = (i64, i64, i64);
/// A deferred task, and the notes every write that left it under its key added (in the order
/// they came): it is handed them when it runs.
type Deferred = (Task, Vec<i32>);
type Task = Box<dyn FnOnce(&mut Conn, &[i32]) -> Result<(), String> + Send>;

/// Adds `deferred` to `into`: a key's first task is kept, the notes of all are.
fn gather(into: &mut BTreeMap<DeferKey, Deferred>, deferred: BTreeMap<DeferKey, Deferred>) {
    for (key, (task, notes)) in deferred {
        into.entry(key)
            .or_insert((task, Vec::new()))
            .1
            .extend(notes);
    }
}

/// What a failed group commit tells each of its writes.
fn commit_failed(why: &str) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(format!("group commit failed: {why}").into())
}

/// Rolls back whatever transaction and savepoints are open on `conn`.
fn roll_back_all(conn: &mut Conn) {
    while super::in_transaction(conn) {
        if <Conn as Connection>::TransactionManager::rollback_transaction(conn).is_err() {
            break;
        }
    }
}

/// Runs the group's deferred tasks and commits it (to the log, not yet flushed).
fn commit(g: &mut Shared) -> Result<(), String> {
    for (_, (task, notes)) in std::mem::take(&mut g.deferred) {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| task(&mut g.conn, &notes))) {
            Ok(Ok(())) => {}
            Ok(Err(why)) => return Err(why),
            Err(_) => return Err("a task before the commit failed unexpectedly".into()),
        }
    }
    <Conn as Connection>::TransactionManager::commit_transaction(&mut g.conn)
        .map_err(|e| e.to_string())
}

impl Log {
    fn new(wal: std::path::PathBuf) -> Log {
        Log {
            done: Mutex::new(Done::default()),
            slots: std::array::from_fn(|_| Condvar::new()),
            wanted: Condvar::new(),
            wal,
            settled: tokio::sync::watch::Sender::new(0),
        }
    }

    fn done(&self) -> MutexGuard<'_, Done> {
        self.done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records how group `n` closed: committed to the log, or rolled back (`Err`). Called
    /// holding the group's lock, so that it is known before any later group commits.
    fn closed(&self, n: u64, outcome: Result<(), String>) {
        let mut done = self.done();
        match outcome {
            Ok(()) => {
                done.committed = n;
                self.wanted.notify_one();
            }
            Err(why) => {
                tracing::error!(group = n, "group commit failed: {why}");
                done.failed.insert(n, why);
                done = self.advance(done);
            }
        }
        drop(done);
        self.slots[slot(n)].notify_all();
    }

    /// Flushes the log once: every group committed before it began is then on disk (or failed,
    /// with every group after it, if the flush failed).
    fn flush<'a>(&'a self, done: MutexGuard<'a, Done>) -> MutexGuard<'a, Done> {
        let upto = done.committed;
        drop(done);
        let flushed = std::fs::File::open(&self.wal).and_then(|f| f.sync_data());
        let mut done = self.done();
        if let Err(e) = flushed {
            let why = format!("flushing the write-ahead log: {e}");
            tracing::error!("{why}");
            done.broken = Some(why);
        }
        match done.broken.clone() {
            // Every group committed and not known to be on disk fails.
            Some(why) => {
                for n in done.flushed + 1..=done.committed {
                    done.failed.entry(n).or_insert_with(|| why.clone());
                }
                done.flushed = done.committed;
            }
            None => done.flushed = upto,
        }
        self.advance(done)
    }

    /// The flusher's life: whenever groups are committed that are not on disk, one flush for
    /// all of them; until the writer closes, once what it committed is flushed.
    fn flusher(&self) {
        let mut done = self.done();
        loop {
            if done.flushed < done.committed {
                done = self.flush(done);
            } else if done.closing {
                return;
            } else {
                done = self
                    .wanted
                    .wait(done)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        }
    }

    /// Settles every group whose turn has come (on disk or failed, and every group before it
    /// settled) and tells whoever waits for them.
    fn advance<'a>(&'a self, mut done: MutexGuard<'a, Done>) -> MutexGuard<'a, Done> {
        let before = done.settled;
        loop {
            let next = done.settled + 1;
            if next > done.flushed && !done.failed.contains_key(&next) {
                break;
            }
            done.settled = next;
        }
        let settled = done.settled;
        done.failed.retain(|k, _| k + 100_000 > settled);
        if settled > before {
            self.settled.send_replace(settled);
        }
        done
    }

    /// Whether group `n` failed, once settled.
    fn outcome(&self, n: u64) -> Result<(), String> {
        match self.done().failed.get(&n) {
            Some(why) => Err(why.clone()),
            None => Ok(()),
        }
    }
}

impl Writer {
    /// The writing connection to the database file at `path`, with the pool's settings and a
    /// page cache of up to 64 MiB (SQLite's 2 MiB made a rush's merges read a province's
    /// reports from the file again; the server writes through this connection alone, so its
    /// cache is emptied only when another process has written), and the thread that flushes
    /// its log.
    pub fn open(path: &str) -> anyhow::Result<Writer> {
        let mut conn = Conn::Sqlite(SqliteConnection::establish(path)?);
        conn.batch_execute(
            "PRAGMA busy_timeout = 10000;
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA cache_size = -65536;",
        )?;
        let log = Arc::new(Log::new(std::path::PathBuf::from(format!("{path}-wal"))));
        let flusher = {
            let log = log.clone();
            std::thread::Builder::new()
                .name("baocao-flusher".into())
                .spawn(move || log.flusher())?
        };
        Ok(Writer {
            shared: Mutex::new(Shared {
                conn,
                open: false,
                group: 0,
                jobs: 0,
                deferred: BTreeMap::new(),
            }),
            log,
            waiting: AtomicUsize::new(0),
            flusher: Some(flusher),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` as one write of a group; returns once the group is committed (visible to the
    /// server's reads), and leaves the group's number for the request to wait on
    /// ([`serving`], [`Writer::durable`]) before it is answered.
    pub fn run<T, E>(&self, f: impl FnOnce(&mut Conn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        if let Some(why) = self.log.done().broken.clone() {
            return Err(commit_failed(&why).into());
        }
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut g = self.lock();
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        if !g.open {
            let begun = match &mut g.conn {
                Conn::Sqlite(c) => {
                    AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
                }
                Conn::Postgres(_) => unreachable!("the writer is opened on SQLite only"),
            };
            if let Err(e) = begun {
                return Err(e.into());
            }
            g.open = true;
            g.group += 1;
            g.jobs = 0;
        }
        let mine = g.group;
        DEFERRED.with(|d| *d.borrow_mut() = Some(BTreeMap::new()));
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| g.conn.transaction(f)));
        let deferred = DEFERRED.with(|d| d.borrow_mut().take()).unwrap_or_default();
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(panic) => {
                // Its savepoint and the group's transaction are left open: the whole group goes,
                // and every write waiting in it is told so.
                roll_back_all(&mut g.conn);
                g.open = false;
                g.deferred.clear();
                self.log
                    .closed(mine, Err("a write failed unexpectedly".into()));
                drop(g);
                std::panic::resume_unwind(panic);
            }
        };
        g.jobs += 1;
        if outcome.is_ok() {
            // A write that failed was rolled back: what it left to do goes with it.
            gather(&mut g.deferred, deferred);
        }
        if self.waiting.load(Ordering::SeqCst) == 0 || g.jobs >= MAX_GROUP {
            let committed = commit(&mut g);
            g.open = false;
            if committed.is_err() {
                // The transaction is still this thread's (the lock was held throughout).
                roll_back_all(&mut g.conn);
                g.deferred.clear();
            }
            self.log.closed(mine, committed);
        }
        drop(g);
        // A write that failed changed nothing: it need not wait for the others.
        let value = outcome?;
        let early = UNREAD.get();
        let served = SERVED.get();
        SERVED.set(Served {
            group: served.group.max(mine),
            early: served.early || early,
        });
        if early {
            // Its request reads nothing more before it is answered, and it is answered once the
            // group is on disk (so committed), or told that it failed.
            return Ok(value);
        }
        let mut done = self.log.done();
        while done.committed < mine && !done.failed.contains_key(&mine) {
            done = self.log.slots[slot(mine)]
                .wait(done)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        if let Some(why) = done.failed.get(&mine) {
            return Err(commit_failed(why).into());
        }
        drop(done);
        Ok(value)
    }

    /// Waits, as a task, until group `n` is on disk; `Err` if it failed. Group 0 is none.
    pub async fn durable(&self, n: u64) -> Result<(), diesel::result::Error> {
        if n > 0 {
            let mut settled = self.log.settled.subscribe();
            // The sender lives as long as the writer.
            let _ = settled.wait_for(|s| *s >= n).await;
            self.log.outcome(n).map_err(|why| commit_failed(&why))?;
        }
        Ok(())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.log.done().closing = true;
        self.log.wanted.notify_one();
        if let Some(flusher) = self.flusher.take() {
            let _ = flusher.join();
        }
    }
}

thread_local! {
    /// The writer of the server this thread is serving a request for, if any.
    static CURRENT: RefCell<Option<Arc<Writer>>> = const { RefCell::new(None) };
    /// While this thread runs a write of a group: what it leaves for the group to do.
    static DEFERRED: RefCell<Option<BTreeMap<DeferKey, Deferred>>> = const { RefCell::new(None) };
    /// What this thread's writes leave its request to wait for, since it began serving it.
    static SERVED: Cell<Served> = const { Cell::new(Served { group: 0, early: false }) };
    /// This thread's writes are not read back before its request is answered (see [`unread`]).
    static UNREAD: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, a request's work whose writes it does not read back before it is answered (its
/// answer is made of what it read before writing and of the rows its writes returned): each
/// write then returns as soon as it has had its turn, without waiting for its group's commit,
/// and the thread serves the next request meanwhile. The request is still answered only once
/// the group is on disk, or told that it failed (`routes::db`). A read after such a write, on
/// another connection than the writer's, might not see it yet.
pub fn unread<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            UNREAD.set(self.0);
        }
    }
    let _reset = Reset(UNREAD.replace(true));
    f()
}

/// Inside a write of a group, leaves `task` to run once before the group commits, in the order
/// of `key`, and only if this write stands (a failed write's tasks are dropped with it); writes
/// that leave a task under the same key get it run once, handed every standing write's `note`
/// (what each changed that the task must look at). `false` outside a group: the caller does
/// the work itself, now.
pub fn defer(
    key: DeferKey,
    note: i32,
    task: impl FnOnce(&mut Conn, &[i32]) -> Result<(), String> + Send + 'static,
) -> bool {
    DEFERRED.with(|d| match d.borrow_mut().as_mut() {
        Some(tasks) => {
            tasks
                .entry(key)
                .or_insert_with(|| (Box::new(task), Vec::new()))
                .1
                .push(note);
            true
        }
        None => false,
    })
}

/// Runs `f` (the body of a transaction that is not one of a group's writes) collecting what it
/// defers, then runs those tasks on `conn`, once each in the order of their keys, before the
/// transaction commits: on PostgreSQL the live consolidations are merged at the end, so the
/// turn of each unit merged (`db::lock_merge`) is held only for its merge and the commit, and
/// every transaction takes those turns in one order (deepest first), so none waits for another
/// that waits for it. Inside a group (or an enclosing `with_deferred`), `f` just runs: the
/// enclosing one runs the tasks.
pub fn with_deferred<T, E>(
    conn: &mut Conn,
    f: impl FnOnce(&mut Conn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    if DEFERRED.with(|d| d.borrow().is_some()) {
        return f(conn);
    }
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            DEFERRED.with(|d| *d.borrow_mut() = None);
        }
    }
    DEFERRED.with(|d| *d.borrow_mut() = Some(BTreeMap::new()));
    let _clear = Clear;
    let value = f(conn)?;
    let tasks = DEFERRED.with(|d| d.borrow_mut().take()).unwrap_or_default();
    for (_, (task, notes)) in tasks {
        task(conn, &notes)
            .map_err(|why| E::from(diesel::result::Error::QueryBuilderError(why.into())))?;
    }
    Ok(value)
}

/// What a request's writes in groups leave it to wait for (see [`serving`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Served {
    /// The last group they were committed in (0 for none): the request is answered once it is
    /// on disk ([`Writer::durable`]).
    pub group: u64,
    /// One of them returned before its group was committed ([`unread`]): what it changed was
    /// counted as written a moment before others could read it, and is counted again once
    /// durable (`service::WriteCount`), so that nothing read in between is kept as current.
    pub early: bool,
}

/// Runs `f` with `writer` as this thread's writer: the writes it makes are grouped. Returns
/// with what `f` returned what the request must wait for before it is answered. Without a
/// writer (PostgreSQL), `f` just runs, and its transactions are durable when they return.
pub fn serving<R>(writer: Option<&Arc<Writer>>, f: impl FnOnce() -> R) -> (R, Served) {
    match writer {
        Some(writer) => {
            SERVED.set(Served::default());
            let value = scoped(&CURRENT, writer.clone(), f);
            (value, SERVED.take())
        }
        None => (f(), Served::default()),
    }
}

/// Runs `f` with `value` in this thread's `slot`, and puts back what was there before, even if
/// `f` panics.
pub fn scoped<T: 'static, R>(
    slot: &'static std::thread::LocalKey<RefCell<Option<Arc<T>>>>,
    value: Arc<T>,
    f: impl FnOnce() -> R,
) -> R {
    struct Reset<T: 'static> {
        slot: &'static std::thread::LocalKey<RefCell<Option<Arc<T>>>>,
        before: Option<Arc<T>>,
    }
    impl<T: 'static> Drop for Reset<T> {
        fn drop(&mut self) {
            let before = self.before.take();
            self.slot.with(|c| *c.borrow_mut() = before);
        }
    }
    let before = slot.with(|c| c.borrow_mut().replace(value));
    let _reset = Reset { slot, before };
    f()
}

/// This thread's writer, when it serves a request.
pub fn current() -> Option<Arc<Writer>> {
    CURRENT.with(|c| c.borrow().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn writer() -> (tempfile::TempDir, Arc<Writer>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db").to_string_lossy().into_owned();
        let mut conn = Conn::establish(&path).unwrap();
        conn.batch_execute(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER PRIMARY KEY, by TEXT NOT NULL);",
        )
        .unwrap();
        (dir, Arc::new(Writer::open(&path).unwrap()))
    }

    fn count(conn: &mut Conn, sql: &str) -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(sql).get_result::<N>(conn).unwrap().n
    }

    #[test]
    fn writes_at_once_are_grouped_a_failed_one_changes_nothing_and_tasks_run_once() {
        let (_dir, writer) = writer();
        let threads: Vec<_> = (0..40)
            .map(|i| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    let (result, served) = serving(Some(&writer.clone()), || {
                        writer.run(|conn| {
                            diesel::sql_query(format!("INSERT INTO t (n, by) VALUES ({i}, 'job')"))
                                .execute(conn)?;
                            defer((0, 0, 1), i, move |conn, notes| {
                                assert!(notes.contains(&i));
                                // Its notes, one per standing write of the group, as the row's `by`.
                                diesel::sql_query(format!(
                                "INSERT INTO t (n, by) SELECT 1000 + COUNT(*), 'task {}' FROM t",
                                notes.len()
                            ))
                            .execute(conn)
                            .map(|_| ())
                            .map_err(|e| e.to_string())
                            });
                            if i % 10 == 3 {
                                // Fails after writing: its row must go, the others' stay.
                                return Err(diesel::result::Error::RollbackTransaction);
                            }
                            Ok(i)
                        })
                    });
                    // A standing write is committed, and durable once its group is.
                    let group = served.group;
                    assert_eq!(result.is_ok(), group > 0);
                    block_on(writer.durable(group)).unwrap();
                    assert!(writer.log.done().flushed >= group);
                    result
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(results.iter().filter(|r| r.is_err()).count(), 4);
        let mut shared = writer.lock();
        // Nothing is left open.
        assert!(!shared.open);
        let groups = shared.group;
        let conn = &mut shared.conn;
        assert_eq!(
            count(conn, "SELECT COUNT(*) AS n FROM t WHERE by = 'job'"),
            36
        );
        assert_eq!(
            count(
                conn,
                "SELECT COUNT(*) AS n FROM t WHERE by = 'job' AND n % 10 = 3"
            ),
            0
        );
        let tasks = count(conn, "SELECT COUNT(*) AS n FROM t WHERE by LIKE 'task %'");
        // Every standing write's note reached its group's task, and no failed write's.
        assert_eq!(
            count(
                conn,
                "SELECT SUM(CAST(substr(by, 6) AS INTEGER)) AS n FROM t WHERE by LIKE 'task %'"
            ),
            36
        );
        // One task per group (not per write), and fewer groups than writes once they pile up.
        assert!(tasks as u64 <= groups, "{tasks} tasks in {groups} groups");
        assert!(tasks >= 1);
    }

    #[test]
    fn groups_are_answered_in_order_and_a_failed_flush_fails_those_not_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path().join("w.db-wal");
        std::fs::write(&wal, b"").unwrap();
        let log = Log::new(wal);
        log.closed(1, Ok(()));
        log.closed(2, Err("disk full".into()));
        // Group 2 failed at once; group 1 waits for its flush, and group 2 for group 1.
        assert_eq!(log.done().settled, 0);
        let done = log.flush(log.done());
        assert_eq!((done.settled, done.flushed), (2, 1));
        assert!(done.failed.contains_key(&2) && !done.failed.contains_key(&1));
        drop(done);
        assert_eq!(*log.settled.borrow(), 2);
        // A log that cannot be flushed.
        let broken = Log::new(std::path::PathBuf::from("/nonexistent/w.db-wal"));
        broken.closed(1, Ok(()));
        broken.closed(2, Ok(()));
        let done = broken.flush(broken.done());
        assert_eq!(done.settled, 2);
        assert!(done.failed.contains_key(&1) && done.failed.contains_key(&2));
        assert!(done.broken.is_some());
        drop(done);
        assert!(broken.outcome(1).is_err() && broken.outcome(2).is_err());
    }

    #[test]
    fn a_writer_whose_flush_failed_takes_no_write_and_its_groups_are_not_durable() {
        let (_dir, writer) = writer();
        let write = |n: i32| {
            serving(Some(&writer), || {
                writer.run(|conn| {
                    diesel::sql_query(format!("INSERT INTO t (n, by) VALUES ({n}, 'job')"))
                        .execute(conn)
                })
            })
        };
        let (written, served) = write(1);
        assert!(written.is_ok());
        let group = served.group;
        block_on(writer.durable(group)).unwrap();
        // A group committed whose flush then fails is not durable.
        let mut done = writer.log.done();
        done.broken = Some("disk gone".into());
        done.committed += 1;
        let lost = done.committed;
        writer.log.wanted.notify_one();
        drop(done);
        assert!(block_on(writer.durable(lost)).is_err());
        let (refused, served) = write(2);
        assert!(
            refused.is_err() && served.group == 0,
            "no write once a flush failed"
        );
    }

    #[test]
    fn a_write_whose_request_does_not_read_it_back_returns_before_its_group_commits() {
        let (_dir, writer) = writer();
        let insert = |n: i32| {
            move |conn: &mut Conn| {
                diesel::sql_query(format!("INSERT INTO t (n, by) VALUES ({n}, 'job')"))
                    .execute(conn)
            }
        };
        // Someone about to write keeps the group open.
        writer.waiting.fetch_add(1, Ordering::SeqCst);
        let (first, served) = serving(Some(&writer), || unread(|| writer.run(insert(1))));
        assert!(first.is_ok() && served.early && served.group > 0);
        assert!(writer.lock().open, "its group is still open");
        writer.waiting.fetch_sub(1, Ordering::SeqCst);
        // A write that reads back waits for the commit; this one closes the group.
        let (second, later) = serving(Some(&writer), || writer.run(insert(2)));
        assert!(second.is_ok() && !later.early);
        assert_eq!(later.group, served.group);
        assert!(!writer.lock().open);
        block_on(writer.durable(served.group)).unwrap();
        assert_eq!(
            count(
                &mut writer.lock().conn,
                "SELECT COUNT(*) AS n FROM t WHERE by = 'job'"
            ),
            2
        );
    }

    #[test]
    fn outside_a_group_a_task_is_not_deferred() {
        assert!(!defer((0, 0, 0), 0, |_, _| Ok(())));
    }
}
