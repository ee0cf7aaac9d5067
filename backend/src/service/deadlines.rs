//! Deadlines (*hạn nộp*): the filer's reminder a few days before and after, and the boards'
//! list of who is overdue, all judged by the Vietnam calendar.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::RoundCtx;
use super::access::CurrentUser;
use super::units::load_subtree;
use crate::db::Conn;
use crate::db::models::Unit;
use crate::db::schema::reports;
use crate::domain::{ReportStatus, UnitRef, vn};
use crate::error::{AppError, AppResult};

/// A report is "due soon" this many days before its deadline.
pub const DUE_SOON_DAYS: i64 = 3;

/// A filer's reminder: due within a few days, or overdue.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DueNotice {
    pub overdue: bool,
    /// Whole days left (due) or past (overdue), in Vietnam calendar days.
    pub days: i64,
    pub deadline: NaiveDateTime,
}

impl DueNotice {
    /// "Còn 2 ngày nữa là đến hạn nộp báo cáo (23:59 ngày 17/06/2025)."
    pub fn message(&self) -> String {
        let when = vn::datetime(self.deadline);
        match (self.overdue, self.days) {
            (true, 0) => format!("Báo cáo đã quá hạn nộp ({when}). Xin nộp ngay."),
            (true, d) => format!("Báo cáo đã quá hạn nộp {d} ngày (hạn {when}). Xin nộp ngay."),
            (false, 0) => format!("Hôm nay là hạn cuối nộp báo cáo ({when})."),
            (false, d) => format!("Còn {d} ngày nữa là đến hạn nộp báo cáo ({when})."),
        }
    }
}

/// The reminder for a report with `status` and `deadline`, judged at `now` in Vietnam time.
pub fn due_notice(
    deadline: NaiveDateTime,
    status: ReportStatus,
    now: NaiveDateTime,
) -> Option<DueNotice> {
    if status.is_filed() {
        return None;
    }
    let days = (vn::local(deadline).date() - vn::local(now).date()).num_days();
    if now > deadline {
        Some(DueNotice {
            overdue: true,
            days: -days,
            deadline,
        })
    } else if days <= DUE_SOON_DAYS {
        Some(DueNotice {
            overdue: false,
            days,
            deadline,
        })
    } else {
        None
    }
}

/// A unit that has not filed although its deadline has passed.
#[derive(Debug, Clone, Serialize)]
pub struct Overdue {
    pub unit: UnitRef,
    /// The unit it reports to.
    pub parent: UnitRef,
    pub status: ReportStatus,
    pub deadline: NaiveDateTime,
    pub days_late: i64,
}

/// Every unit below `unit` whose report is overdue, communes and district boards alike,
/// grouped by the unit they report to.
pub fn overdue(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
) -> AppResult<Vec<Overdue>> {
    if !user.can_read(unit) {
        return Err(AppError::forbidden());
    }
    let tree = load_subtree(conn, unit, ctx.round.period_end)?;
    let ids: Vec<i32> = tree.units.iter().map(|u| u.id).collect();
    let mut status: HashMap<i32, ReportStatus> = HashMap::new();
    for chunk in ids.chunks(5000) {
        let rows: Vec<(i32, String)> = reports::table
            .filter(reports::round_id.eq(ctx.round.id))
            .filter(reports::unit_id.eq_any(chunk))
            .select((reports::unit_id, reports::status))
            .load(conn)?;
        status.extend(rows.into_iter().map(|(u, s)| (u, ReportStatus::parse(&s))));
    }
    let by_id: HashMap<i32, &Unit> = tree.units.iter().map(|u| (u.id, u)).collect();
    let mut out = Vec::new();
    // Walk in tree order so that each parent's overdue children come together, sorted.
    let mut stack = vec![unit.id];
    while let Some(id) = stack.pop() {
        let kids = tree.children.get(&id).map(Vec::as_slice).unwrap_or(&[]);
        for &k in kids.iter().rev() {
            stack.push(tree.units[k].id);
        }
        for &k in kids {
            let child = &tree.units[k];
            let leaf = !tree.children.contains_key(&child.id);
            let deadline = ctx.deadline_for(leaf);
            let st = status
                .get(&child.id)
                .copied()
                .unwrap_or(ReportStatus::NotStarted);
            if ctx.now > deadline && !st.is_filed() && child.id != ctx.owner.id {
                let days = (vn::local(ctx.now).date() - vn::local(deadline).date()).num_days();
                out.push(Overdue {
                    unit: child.into(),
                    parent: by_id.get(&id).map_or_else(|| unit.into(), |p| (*p).into()),
                    status: st,
                    deadline,
                    days_late: days,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::rounds::end_of_day;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        // A Vietnam wall-clock time, as the UTC instant it is.
        vn::from_local(
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, min, 0)
                .unwrap(),
        )
    }

    #[test]
    fn a_deadline_is_judged_by_the_vietnam_calendar_around_midnight() {
        let deadline = end_of_day(NaiveDate::from_ymd_opt(2025, 6, 17).unwrap());
        let open = ReportStatus::Draft;
        // 23:58 on the last day, Vietnam time: still due today, not overdue.
        let n = due_notice(deadline, open, at(2025, 6, 17, 23, 58)).unwrap();
        assert!(!n.overdue);
        assert_eq!(n.days, 0);
        // 00:01 the next day in Vietnam (still 17/06 in UTC): overdue by a day.
        let n = due_notice(deadline, open, at(2025, 6, 18, 0, 1)).unwrap();
        assert!(n.overdue);
        assert_eq!(n.days, 1);
        // Three days ahead: due soon; four: nothing to say.
        assert!(due_notice(deadline, open, at(2025, 6, 14, 9, 0)).is_some());
        assert!(due_notice(deadline, open, at(2025, 6, 13, 9, 0)).is_none());
        // A filed report needs no reminder.
        assert!(due_notice(deadline, ReportStatus::Submitted, at(2025, 6, 20, 9, 0)).is_none());
    }
}
