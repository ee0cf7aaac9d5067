//! The operations of baocao, one file per capability, shared by the JSON API, the HTML pages
//! and the CLI: each checks who is asking, changes state in one transaction together with its
//! audit row, and returns a view. Nothing here knows about HTTP.
//!
//! - [`access`]: who is asking, and what they may see: the round and the unit a request names.
//! - [`units`]: looking units up, and the tree as it stood on a day.
//! - [`accounts`]: named accounts, administered by the board above; one-time passwords.
//! - [`unit_admin`]: the administrator adds, renames and closes units.
//! - [`audit_trail`]: the audit of administration, by subtree.
//! - [`session`]: passwords, logging in and out, sessions ending when unused.
//! - [`throttle`]: failed logins remembered, so guessing is slow.
//! - [`filing`]: a report as its readers see it; saving a draft, submitting.
//! - [`review`]: accepting, returning and reopening a report.
//! - [`queue`]: a board's work in a round, and the next report to review.
//! - [`rollup`]: consolidating a subtree.
//! - [`rounds`]: listing, opening, editing and closing rounds.
//! - [`round_life`]: extending a round's deadlines, reopening it, its history.
//! - [`orientation`]: the orientation and key tasks that flow down with a round.
//! - [`deadlines`]: reminders before a deadline, the overdue list after it.
//! - [`rosters`]: the team rosters and their review.
//! - [`upload`]: the offline form out, and back in (one commune's, or a board's bulk upload).
//! - [`export`]: the consolidated workbook.
//! - [`compare`]: two rounds side by side, across a reorganisation.
//! - [`history`]: a report's history.
//! - [`backups`]: the administrator's view of the backups.
//!
//! This file holds only what they share: the round context, the report lookup, the audit row
//! and the write transaction.

pub mod access;
pub mod accounts;
pub mod audit_trail;
pub mod backups;
pub mod compare;
pub mod dashboard;
pub mod deadlines;
pub mod export;
pub mod filing;
pub mod hashing;
pub mod history;
pub mod kept;
pub mod official;
pub mod orientation;
pub mod quality;
pub mod queue;
pub mod review;
pub mod rollup;
pub mod rosters;
pub mod round_life;
pub mod rounds;
pub mod series;
pub mod session;
pub mod throttle;
pub mod trends;
pub mod unit_admin;
pub mod units;
pub mod upload;

pub use access::CurrentUser;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use report_schemas::Template;
use serde::Deserialize;
use serde_json::Value as Json;

use crate::db::Conn;
use crate::db::models::{NewAuditEntry, Report, Round, Unit};
use crate::db::schema::{audit_log, reports};
use crate::error::{AppError, AppResult};

/// Who answers to a round's second deadline, by the kind of unit that opened it: every unit
/// with children, so the districts in a province's round, and the provinces too in the
/// central board's.
pub fn upper_deadline_label(owner_kind: &str) -> &'static str {
    if owner_kind == "nation" {
        "cấp huyện, cấp tỉnh"
    } else {
        "cấp huyện"
    }
}

/// A round together with what every operation on it needs.
#[derive(Debug, Clone)]
pub struct RoundCtx {
    pub round: Round,
    pub template: Arc<Template>,
    pub owner: Unit,
    /// The time the request is judged at (deadlines, timestamps), from the application's clock.
    pub now: NaiveDateTime,
}

impl RoundCtx {
    pub fn is_open(&self) -> bool {
        self.round.status == "open"
    }

    /// Who answers to the second deadline, as the pages name them ([`upper_deadline_label`]).
    pub fn upper_deadline_label(&self) -> &'static str {
        upper_deadline_label(&self.owner.kind)
    }

    /// Leaves (communes) answer to the first deadline, every unit with children to the second.
    pub fn deadline_for(&self, leaf: bool) -> NaiveDateTime {
        if leaf {
            self.round.commune_deadline
        } else {
            self.round.district_deadline
        }
    }
}

pub(super) fn find_report(
    conn: &mut Conn,
    round_id: i32,
    unit_id: i32,
) -> AppResult<Option<Report>> {
    Ok(crate::read_on_backend!(
        conn,
        first,
        reports::table
            .filter(reports::round_id.eq(round_id))
            .filter(reports::unit_id.eq(unit_id))
            .select(Report::as_select())
    )
    .optional()?)
}

pub(super) fn parse_map<T: for<'de> Deserialize<'de> + Default>(text: &str) -> AppResult<T> {
    serde_json::from_str(text).map_err(|e| {
        AppError::Unexpected(anyhow::Error::new(e).context("stored report JSON unreadable"))
    })
}

pub(super) fn ensure_open(ctx: &RoundCtx) -> AppResult<()> {
    if !ctx.is_open() {
        return Err(AppError::conflict(
            "round_closed",
            "Kỳ báo cáo đã đóng, không nhận thêm thay đổi.",
        ));
    }
    Ok(())
}

#[expect(
    clippy::too_many_arguments,
    reason = "an audit row has this many columns"
)]
pub(super) fn audit(
    conn: &mut Conn,
    actor: &CurrentUser,
    action: &str,
    entity: &str,
    entity_id: Option<i32>,
    unit_id: Option<i32>,
    details: Json,
    at: NaiveDateTime,
) -> AppResult<()> {
    // On the backend's own connection: its SQL written once, not again through the connection
    // over both backends.
    crate::execute_on_backend!(
        conn,
        diesel::insert_into(audit_log::table).values(NewAuditEntry {
            at,
            actor_id: Some(actor.account.id),
            action,
            entity,
            entity_id,
            unit_id,
            details: &details.to_string(),
        })
    )?;
    Ok(())
}

/// A write transaction: a savepoint inside a batch's transaction; serving a request, one write
/// of a group committed together with the writes that arrived with it (`db::writer`), on the
/// writer's connection (`f` is handed that one, not `conn`); otherwise (PostgreSQL, the
/// console, a test) a transaction of its own on `conn` (`BEGIN IMMEDIATE` on SQLite), what `f`
/// defers run at its end. It returns once committed; in a group, the request it serves is
/// answered only once the group is durable (`routes::db`), otherwise it is durable already.
pub fn write_transaction<T>(
    conn: &mut Conn,
    f: impl FnOnce(&mut Conn) -> AppResult<T>,
) -> AppResult<T> {
    let done = written(conn, f);
    if done.is_ok() {
        WRITE_COUNT.with(|c| match &*c.borrow() {
            Some(count) => count.0.fetch_add(1, Ordering::Release),
            None => UNCOUNTED.fetch_add(1, Ordering::Release),
        });
    }
    done
}

/// [`write_transaction`] for what no kept page shows (a session opened or seen again): not
/// counted in [`WriteCount`], so that fifty people watching do not set their pages aside each
/// time one of their sessions is marked as seen.
pub fn unshown_write_transaction<T>(
    conn: &mut Conn,
    f: impl FnOnce(&mut Conn) -> AppResult<T>,
) -> AppResult<T> {
    written(conn, f)
}

/// How many write transactions a server has committed: what it reads may have changed whenever
/// this moves (see `routes::kept`). Each server its own (two may run in one process, as in the
/// tests); writes made outside a server's requests are counted for every server.
#[derive(Debug, Default)]
pub struct WriteCount(AtomicU64);

impl WriteCount {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Acquire) + UNCOUNTED.load(Ordering::Acquire)
    }

    /// Counts a write again: one counted before others could read it (`db::writer::unread`),
    /// now that they can.
    pub fn moved(&self) {
        self.0.fetch_add(1, Ordering::Release);
    }

    /// Runs `f` with the writes it commits on this thread counted here.
    pub fn counting<R>(self: &Arc<Self>, f: impl FnOnce() -> R) -> R {
        crate::db::writer::scoped(&WRITE_COUNT, self.clone(), f)
    }
}

thread_local! {
    static WRITE_COUNT: std::cell::RefCell<Option<Arc<WriteCount>>> =
        const { std::cell::RefCell::new(None) };
}

/// Writes committed outside any server's requests (start-up, background tasks, the console).
static UNCOUNTED: AtomicU64 = AtomicU64::new(0);

fn written<T>(conn: &mut Conn, f: impl FnOnce(&mut Conn) -> AppResult<T>) -> AppResult<T> {
    if crate::db::in_transaction(conn) {
        conn.transaction(f)
    } else if let Some(writer) = crate::db::writer::current() {
        // Serving a request: with the other requests' writes, in groups (`db::writer`).
        writer.run(f)
    } else {
        // One writer at a time in this process on SQLite: it takes one anyway, and a writer
        // that finds the file locked sleeps in its busy handler (1, 2, 5 … 100 ms) instead of
        // starting as soon as the lock is free. Waiting here, it starts at once. PostgreSQL
        // writes from many connections at once, locking rows (and a round's merge) as needed.
        let _writer = matches!(conn, Conn::Sqlite(_)).then(|| {
            WRITER
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        });
        crate::db::write_lock_transaction(conn, |conn| crate::db::writer::with_deferred(conn, f))
    }
}

/// The process's write turn (see [`write_transaction`]).
static WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());
