//! The home page (*Kỳ báo cáo*): for a board, its work queue in each open round first (reports
//! to review, returned ones not back yet, units not started), then every round it sees with its
//! own report's status; a returned report shows why it was returned.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use report_schemas::TemplateKind;

use super::db;
use super::page::{PageResult, PageUser, UserVm, html, status_class};
use crate::AppState;
use crate::domain::{ReportStatus, vn};
use crate::service::access::{self, filing_unit};
use crate::service::deadlines::DueNotice;
use crate::service::queue::{self, QueueItem, WorkQueue};
use crate::service::rounds as service;

pub fn pages(cfg: &mut web::ServiceConfig) {
    cfg.route("/ky-bao-cao", web::get().to(rounds));
}

struct RoundRow {
    id: i32,
    /// The person's unit files in this round (it is not the unit that opened it).
    files: bool,
    owner: String,
    kind: &'static str,
    due: Option<String>,
    due_overdue: bool,
    title: String,
    period: String,
    deadline: String,
    overdue: bool,
    open: bool,
    my_status: String,
    my_status_class: &'static str,
    /// Why the person's report was returned, while it is.
    return_reason: Option<String>,
}

/// A report in a work queue, as a link.
struct ItemVm {
    name: String,
    link: String,
    /// When it was submitted, or why it was returned.
    note: String,
}

struct QueueVm {
    round_id: i32,
    title: String,
    board: String,
    board_link: String,
    waiting: Vec<ItemVm>,
    returned: Vec<ItemVm>,
    drafting: Vec<ItemVm>,
    not_started: Vec<ItemVm>,
    accepted: usize,
    expected: usize,
}

#[derive(Template)]
#[template(path = "rounds.html")]
struct RoundsPage {
    user: Option<UserVm>,
    rows: Vec<RoundRow>,
    queues: Vec<QueueVm>,
    can_open: bool,
}

fn report_link(round_id: i32, code: &str) -> String {
    format!("/ky-bao-cao/{round_id}/bao-cao/{code}")
}

fn queue_vm(round_id: i32, title: String, board: (String, String), q: WorkQueue) -> QueueVm {
    let item = |i: QueueItem, note: String| ItemVm {
        link: report_link(round_id, &i.unit.code),
        name: i.unit.name,
        note,
    };
    QueueVm {
        round_id,
        title,
        board_link: format!("/ky-bao-cao/{round_id}/don-vi/{}", board.1),
        board: board.0,
        waiting: q
            .waiting
            .into_iter()
            .map(|i| {
                let note = i
                    .submitted_at
                    .map(|t| format!("nộp lúc {}", vn::datetime(t)))
                    .unwrap_or_default();
                item(i, note)
            })
            .collect(),
        returned: q
            .returned
            .into_iter()
            .map(|i| {
                let note = i
                    .return_reason
                    .clone()
                    .map(|r| format!("lý do: {r}"))
                    .unwrap_or_default();
                item(i, note)
            })
            .collect(),
        drafting: q
            .drafting
            .into_iter()
            .map(|i| item(i, String::new()))
            .collect(),
        not_started: q
            .not_started
            .into_iter()
            .map(|u| ItemVm {
                link: report_link(round_id, &u.code),
                name: u.name,
                note: String::new(),
            })
            .collect(),
        accepted: q.accepted,
        expected: q.expected,
    }
}

async fn rounds(state: web::Data<AppState>, PageUser(user): PageUser) -> PageResult {
    let vm = UserVm::from(&user);
    let can_open = user.role.reviews();
    let (list, queues, now) = db(&state, move |conn, st| {
        let now = st.clock.now();
        let list = service::list_rounds(conn, &st.catalog, &user, now)?;
        let mut queues = Vec::new();
        if user.role.reviews() {
            for r in list.iter().filter(|r| r.status == "open") {
                let ctx = access::round_for(conn, &st.catalog, &user, r.id, now)?;
                let board = filing_unit(&user, &ctx.owner, ctx.round.period_end)
                    .unwrap_or(&user.unit)
                    .clone();
                if let Some(q) = queue::work_queue(conn, &user, &ctx, &board)? {
                    queues.push(queue_vm(
                        r.id,
                        r.title.clone(),
                        (board.name.clone(), board.code.clone()),
                        q,
                    ));
                }
            }
        }
        Ok((list, queues, now))
    })
    .await?;
    let rows = list
        .into_iter()
        .map(|r| RoundRow {
            id: r.id,
            files: r.files,
            owner: r.owner.name.clone(),
            kind: match r.template_kind {
                TemplateKind::Periodic => "Định kỳ",
                TemplateKind::Thematic => "Chuyên đề",
            },
            due: r.due.as_ref().map(DueNotice::message),
            due_overdue: r.due.as_ref().is_some_and(|d| d.overdue),
            overdue: r.files && r.my_deadline < now && !r.my_status.is_filed(),
            deadline: vn::datetime(r.my_deadline),
            open: r.status == "open",
            my_status: r.my_status.label().into(),
            my_status_class: status_class(r.my_status),
            return_reason: r
                .my_return_reason
                .clone()
                .filter(|_| r.files && r.my_status == ReportStatus::Returned),
            period: r.period_label,
            title: r.title,
        })
        .collect();
    Ok(html(
        StatusCode::OK,
        &RoundsPage {
            user: Some(vm),
            rows,
            queues,
            can_open,
        },
    ))
}
