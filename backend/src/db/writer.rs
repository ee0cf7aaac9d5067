//! Group commit: the server's writes go through one connection, and the writes that arrive
//! while one commit is being made to disk are committed together in the next.
//!
//! A write runs, in its turn, inside the group's open transaction, in a savepoint of its own: a
//! write that fails is rolled back to its savepoint and changes nothing, the others stand. The
//! last write of a group (the one that finds nobody waiting for a turn, or the one that fills
//! the group) commits it, at `synchronous = FULL`; every write of the group is answered only
//! once that commit is durable, and if it fails, every write of the group fails with it.
//! Threads are bounded by the gate in front (`crate::gate`): at most its running jobs wait here.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;

use super::Conn;

/// Writes in one group at most: a commit is not put off without end.
const MAX_GROUP: usize = 64;

pub struct Writer {
    shared: Mutex<Shared>,
    /// Signalled after every commit, durable or failed.
    committed: Condvar,
    /// Threads waiting for their turn to write: while there are, a group stays open for them.
    waiting: AtomicUsize,
}

struct Shared {
    conn: Conn,
    /// A group's transaction is open.
    open: bool,
    /// The open group's number (or the last one's, when none is open).
    group: u64,
    /// The last group whose commit is on disk.
    durable: u64,
    /// The last group whose commit failed, and why.
    failed: Option<(u64, String)>,
    /// Writes run in the open group.
    jobs: usize,
}

/// What a failed group commit tells each of its writes.
fn commit_failed(why: &str) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(format!("group commit failed: {why}").into())
}

impl Writer {
    /// The writing connection to the database file at `path`, with the pool's settings.
    pub fn open(path: &str) -> anyhow::Result<Writer> {
        let mut conn = Conn::establish(path)?;
        conn.batch_execute(
            "PRAGMA busy_timeout = 10000;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;",
        )?;
        Ok(Writer {
            shared: Mutex::new(Shared {
                conn,
                open: false,
                group: 0,
                durable: 0,
                failed: None,
                jobs: 0,
            }),
            committed: Condvar::new(),
            waiting: AtomicUsize::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` as one write of a group; returns once the group is durable.
    pub fn run<T, E>(&self, f: impl FnOnce(&mut Conn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut g = self.lock();
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        if !g.open {
            if let Err(e) =
                AnsiTransactionManager::begin_transaction_sql(&mut g.conn, "BEGIN IMMEDIATE")
            {
                return Err(e.into());
            }
            g.open = true;
            g.group += 1;
            g.jobs = 0;
        }
        let mine = g.group;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| g.conn.transaction(f)));
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(panic) => {
                // Its savepoint and the group's transaction are left open: the whole group goes,
                // and every write waiting in it is told so.
                while AnsiTransactionManager::transaction_manager_status_mut(&mut g.conn)
                    .transaction_depth()
                    .ok()
                    .flatten()
                    .is_some()
                {
                    if AnsiTransactionManager::rollback_transaction(&mut g.conn).is_err() {
                        break;
                    }
                }
                g.open = false;
                g.failed = Some((mine, "a write failed unexpectedly".into()));
                self.committed.notify_all();
                drop(g);
                std::panic::resume_unwind(panic);
            }
        };
        g.jobs += 1;
        if self.waiting.load(Ordering::SeqCst) == 0 || g.jobs >= MAX_GROUP {
            let done = AnsiTransactionManager::commit_transaction(&mut g.conn);
            g.open = false;
            match done {
                Ok(()) => g.durable = mine,
                Err(e) => {
                    // Whatever is left of the transaction goes; the next group starts clean.
                    let _ = AnsiTransactionManager::rollback_transaction(&mut g.conn);
                    g.failed = Some((mine, e.to_string()));
                }
            }
            self.committed.notify_all();
        } else {
            while g.durable < mine && g.failed.as_ref().is_none_or(|(n, _)| *n < mine) {
                g = self
                    .committed
                    .wait(g)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        }
        match &g.failed {
            Some((n, why)) if *n == mine => Err(commit_failed(why).into()),
            _ => outcome,
        }
    }
}

thread_local! {
    /// The writer of the server this thread is serving a request for, if any.
    static CURRENT: RefCell<Option<Arc<Writer>>> = const { RefCell::new(None) };
}

/// Runs `f` with `writer` as this thread's writer: the writes it makes are grouped.
pub fn serving<R>(writer: &Arc<Writer>, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<Arc<Writer>>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let before = self.0.take();
            CURRENT.with(|c| *c.borrow_mut() = before);
        }
    }
    let before = CURRENT.with(|c| c.borrow_mut().replace(writer.clone()));
    let _reset = Reset(before);
    f()
}

/// This thread's writer, when it serves a request.
pub fn current() -> Option<Arc<Writer>> {
    CURRENT.with(|c| c.borrow().clone())
}
