//! `baocao migrate`: moves a whole database to another one, of either backend (a province's
//! SQLite file to PostgreSQL, when one machine is no longer enough), and proves it moved whole.
//!
//! Every table is copied with its ids, in an order that keeps every reference valid (units by
//! depth: after a reorganisation a unit may sit under one added after it), from one snapshot
//! of the source, in one transaction on the target. Before that transaction commits, the
//! target must hold as many rows of every table as the source, and every round's
//! consolidation, recomputed from the reports on both sides, must be equal at every unit, as
//! must the target's live consolidations: otherwise nothing is kept. The target must be empty
//! (no unit, no account); the source is only read.

use diesel::prelude::*;

use crate::db::schema::{
    accounts, audit_log, reports, review_events, rollup_states, round_tasks, rounds, sessions,
    team_members, templates, unit_successions, units,
};
use crate::db::{self, Conn};
use crate::service::rollup::{live, scratch};

/// Rows per insert: under both backends' limit on bound values (16 columns × 1,000).
const PAGE: i64 = 1_000;

/// What was moved and checked.
#[derive(Debug, Clone, Default)]
pub struct Moved {
    /// Each table with its rows (equal on both sides).
    pub tables: Vec<(&'static str, i64)>,
    /// Rounds whose consolidations were compared, and the units compared in all.
    pub rounds: usize,
    pub consolidations: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("cơ sở dữ liệu đích đã có dữ liệu ({0}); chỉ chuyển sang một cơ sở dữ liệu mới, trống")]
    NotEmpty(String),
    #[error("bảng {table}: nguồn có {from} dòng, đích có {to} dòng; không giữ lại gì ở đích")]
    Count {
        table: &'static str,
        from: i64,
        to: i64,
    },
    #[error(
        "kỳ số {round}: số liệu tổng hợp của {unit} ở đích khác ở nguồn; không giữ lại gì ở đích"
    )]
    Rollup { round: i32, unit: String },
    #[error("{0}")]
    Database(#[from] diesel::result::Error),
    #[error("{0}")]
    Other(String),
}

/// Inserts `$rows` (tuples of the values of the columns `$c`, in that order) into table `$t`
/// on `$to`, a page at a time.
macro_rules! insert_rows {
    ($to:expr, $t:ident, $rows:expr, ($($c:ident),+)) => {
        for page in $rows.chunks(PAGE as usize) {
            let values: Vec<_> = page.iter().map(|($($c,)+)| ($($t::$c.eq($c),)+)).collect();
            crate::execute_on_backend!(&mut *$to, diesel::insert_into($t::table).values(&values))?;
        }
    };
}

/// Copies a table keyed by an integer `id`, a page at a time in id order; `id` comes first.
macro_rules! copy_by_id {
    ($from:expr, $to:expr, $t:ident, ($($c:ident: $ty:ty),+ $(,)?)) => {{
        let mut last = 0i32;
        loop {
            let rows: Vec<($($ty,)+)> = $t::table
                .filter($t::id.gt(last))
                .order($t::id)
                .select(($($t::$c),+))
                .limit(PAGE)
                .load($from)?;
            let Some(end) = rows.last().map(|r| r.0) else { break };
            last = end;
            insert_rows!($to, $t, rows, ($($c),+));
        }
    }};
}

/// Moves everything from `from` to `to` (see the module's documentation).
pub fn transfer(from: &mut Conn, to: &mut Conn) -> Result<Moved, TransferError> {
    let units_there: i64 = units::table.count().get_result(to)?;
    let accounts_there: i64 = accounts::table.count().get_result(to)?;
    if units_there + accounts_there > 0 {
        return Err(TransferError::NotEmpty(format!(
            "{units_there} đơn vị, {accounts_there} tài khoản"
        )));
    }
    // One snapshot of the source, while a server may still be writing to it.
    db::snapshot_transaction(from, |from| {
        db::write_lock_transaction(to, |to| copy_and_check(from, to))
    })
}

fn copy_and_check(from: &mut Conn, to: &mut Conn) -> Result<Moved, TransferError> {
    copy_units(from, to)?;
    copy_by_id!(from, to, unit_successions, (id: i32, old_unit_id: i32, new_unit_id: i32, on_date: chrono::NaiveDate));
    copy_by_id!(from, to, accounts, (id: i32, username: String, password_hash: String, full_name: String, unit_id: i32, role: String, active: bool, created_at: chrono::NaiveDateTime, phone: Option<String>, email: Option<String>, must_change_password: bool, last_login_at: Option<chrono::NaiveDateTime>, previous_login_at: Option<chrono::NaiveDateTime>));
    copy_sessions(from, to)?;
    copy_by_id!(from, to, templates, (id: i32, key: String, version: i32, title: String, source: String));
    copy_by_id!(from, to, rounds, (id: i32, template_id: i32, owner_unit_id: i32, title: String, period_type: String, period_year: i32, period_index: i32, period_start: chrono::NaiveDate, period_end: chrono::NaiveDate, commune_deadline: chrono::NaiveDateTime, district_deadline: chrono::NaiveDateTime, status: String, created_by: Option<i32>, created_at: chrono::NaiveDateTime, orientation: String, closed_at: Option<chrono::NaiveDateTime>));
    copy_by_id!(from, to, round_tasks, (id: i32, round_id: i32, unit_id: i32, position: i32, text: String));
    copy_by_id!(from, to, reports, (id: i32, round_id: i32, unit_id: i32, status: String, values_json: String, sections_json: String, version: i32, first_submitted_at: Option<chrono::NaiveDateTime>, submitted_at: Option<chrono::NaiveDateTime>, reviewed_at: Option<chrono::NaiveDateTime>, reviewed_by: Option<i32>, return_reason: Option<String>, updated_at: chrono::NaiveDateTime, updated_by: Option<i32>, included_json: Option<String>, prefill_json: Option<String>));
    copy_by_id!(from, to, team_members, (id: i32, full_name: String, unit_id: i32, position: String, other_post: Option<String>, sex: String, birth_year: i32, education: String, theory: String, joined_on: chrono::NaiveDate, left_on: Option<chrono::NaiveDate>, version: i32, updated_at: chrono::NaiveDateTime, updated_by: Option<i32>));
    copy_by_id!(from, to, review_events, (id: i32, report_id: i32, action: String, reason: Option<String>, actor_id: i32, at: chrono::NaiveDateTime));
    copy_by_id!(from, to, audit_log, (id: i32, at: chrono::NaiveDateTime, actor_id: Option<i32>, action: String, entity: String, entity_id: Option<i32>, unit_id: Option<i32>, details: String));
    copy_rollup_states(from, to)?;
    restart_identities(to)?;
    let mut moved = Moved {
        tables: counts_match(from, to)?,
        ..Moved::default()
    };
    compare_rollups(from, to, &mut moved)?;
    Ok(moved)
}

/// Units by depth, then id: a parent is always in before its children.
fn copy_units(from: &mut Conn, to: &mut Conn) -> Result<(), TransferError> {
    let mut rows = units::table
        .select((
            units::id,
            units::code,
            units::name,
            units::kind,
            units::parent_id,
            units::path,
            units::depth,
            units::valid_from,
            units::valid_to,
        ))
        .load::<(
            i32,
            String,
            String,
            String,
            Option<i32>,
            String,
            i32,
            Option<chrono::NaiveDate>,
            Option<chrono::NaiveDate>,
        )>(from)?;
    rows.sort_by_key(|r| (r.6, r.0));
    insert_rows!(
        to,
        units,
        rows,
        (
            id, code, name, kind, parent_id, path, depth, valid_from, valid_to
        )
    );
    Ok(())
}

/// Sessions (keyed by their token's hash): whoever is logged in stays logged in.
fn copy_sessions(from: &mut Conn, to: &mut Conn) -> Result<(), TransferError> {
    let mut last = String::new();
    loop {
        let rows = sessions::table
            .filter(sessions::token_hash.gt(&last))
            .order(sessions::token_hash)
            .select((
                sessions::token_hash,
                sessions::account_id,
                sessions::created_at,
                sessions::expires_at,
                sessions::last_seen_at,
                sessions::address,
                sessions::agent,
            ))
            .limit(PAGE)
            .load::<(
                String,
                i32,
                chrono::NaiveDateTime,
                chrono::NaiveDateTime,
                Option<chrono::NaiveDateTime>,
                Option<String>,
                Option<String>,
            )>(from)?;
        let Some(end) = rows.last().map(|r| r.0.clone()) else {
            return Ok(());
        };
        last = end;
        insert_rows!(
            to,
            sessions,
            rows,
            (
                token_hash,
                account_id,
                created_at,
                expires_at,
                last_seen_at,
                address,
                agent
            )
        );
    }
}

/// The live consolidations, round by round.
fn copy_rollup_states(from: &mut Conn, to: &mut Conn) -> Result<(), TransferError> {
    let round_ids: Vec<i32> = rounds::table
        .select(rounds::id)
        .order(rounds::id)
        .load(from)?;
    for round in round_ids {
        let rows = rollup_states::table
            .filter(rollup_states::round_id.eq(round))
            .order(rollup_states::unit_id)
            .select((
                rollup_states::round_id,
                rollup_states::unit_id,
                rollup_states::accepted,
                rollup_states::provisional,
                rollup_states::completeness,
                rollup_states::stamp,
            ))
            .load::<(i32, i32, String, String, String, i64)>(from)?;
        insert_rows!(
            to,
            rollup_states,
            rows,
            (
                round_id,
                unit_id,
                accepted,
                provisional,
                completeness,
                stamp
            )
        );
    }
    Ok(())
}

/// On PostgreSQL, ids given explicitly do not move the identity's sequence: the next row added
/// must get the id after the last one copied.
fn restart_identities(to: &mut Conn) -> Result<(), TransferError> {
    let Conn::Postgres(pg) = to else {
        return Ok(());
    };
    for table in [
        "units",
        "unit_successions",
        "accounts",
        "templates",
        "rounds",
        "round_tasks",
        "reports",
        "team_members",
        "review_events",
        "audit_log",
    ] {
        diesel::sql_query(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        ))
        .execute(pg)?;
    }
    Ok(())
}

/// Every table holds as many rows on both sides.
fn counts_match(from: &mut Conn, to: &mut Conn) -> Result<Vec<(&'static str, i64)>, TransferError> {
    fn counts(conn: &mut Conn) -> QueryResult<Vec<(&'static str, i64)>> {
        Ok(vec![
            ("units", units::table.count().get_result(conn)?),
            (
                "unit_successions",
                unit_successions::table.count().get_result(conn)?,
            ),
            ("accounts", accounts::table.count().get_result(conn)?),
            ("sessions", sessions::table.count().get_result(conn)?),
            ("templates", templates::table.count().get_result(conn)?),
            ("rounds", rounds::table.count().get_result(conn)?),
            ("round_tasks", round_tasks::table.count().get_result(conn)?),
            ("reports", reports::table.count().get_result(conn)?),
            (
                "team_members",
                team_members::table.count().get_result(conn)?,
            ),
            (
                "review_events",
                review_events::table.count().get_result(conn)?,
            ),
            ("audit_log", audit_log::table.count().get_result(conn)?),
            (
                "rollup_states",
                rollup_states::table.count().get_result(conn)?,
            ),
        ])
    }
    let (source, target) = (counts(from)?, counts(to)?);
    for ((table, a), (_, b)) in source.iter().zip(&target) {
        if a != b {
            return Err(TransferError::Count {
                table,
                from: *a,
                to: *b,
            });
        }
    }
    Ok(source)
}

/// Every round's consolidation, from the reports, is the same at every unit on both sides, and
/// the target's live consolidations are those.
fn compare_rollups(from: &mut Conn, to: &mut Conn, moved: &mut Moved) -> Result<(), TransferError> {
    let said = |e: crate::error::AppError| TransferError::Other(e.user_message());
    let round_ids: Vec<i32> = rounds::table
        .select(rounds::id)
        .order(rounds::id)
        .load(from)?;
    for round in round_ids {
        let (a, b) = (
            live::round_ctx(from, round).map_err(said)?,
            live::round_ctx(to, round).map_err(said)?,
        );
        let before = scratch::all_states(from, &a, &a.owner).map_err(said)?;
        let after = scratch::all_states(to, &b, &b.owner).map_err(said)?;
        let mut ids: Vec<i32> = before.keys().chain(after.keys()).copied().collect();
        ids.sort_unstable();
        ids.dedup();
        for id in &ids {
            if before.get(id) != after.get(id) {
                let unit = crate::service::units::unit_by_id(to, *id).map_or_else(
                    |_| format!("đơn vị {id}"),
                    |u| format!("{} ({})", u.name, u.code),
                );
                return Err(TransferError::Rollup { round, unit });
            }
        }
        if let Some(m) = live::check(to, &b).map_err(said)?.first() {
            return Err(TransferError::Rollup {
                round,
                unit: format!("{} ({})", m.unit_name, m.unit_code),
            });
        }
        moved.rounds += 1;
        moved.consolidations += ids.len();
    }
    Ok(())
}
