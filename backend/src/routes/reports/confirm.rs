//! Submitting a report and returning one are confirmed on a page of their own before they
//! happen (no JavaScript needed): the report form saves the draft and leads to the question;
//! the reviewer's return form shows the reason back before it is sent.

use actix_web::http::StatusCode;
use actix_web::{ResponseError, web};
use serde::Deserialize;

use super::render_report;
use crate::AppState;
use crate::db::writer::unread;
use crate::domain::vn;
use crate::error::AppError;
use crate::routes::on_unit;
use crate::routes::page::{
    CheckedForm, ConfirmPage, Flash, PageResult, PageUser, UserVm, all_messages, html, redirect,
};
use crate::service::filing;
use crate::service::rounds::period_beside_title;

fn report_address(round_id: i32, code: &str) -> String {
    format!("/ky-bao-cao/{round_id}/bao-cao/{code}")
}

/// "Nộp báo cáo?": what is about to be sent up. A report that cannot be submitted yet (or not
/// by this person) goes back to its page, which says why.
pub(super) async fn submit_question(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<(i32, String)>,
) -> PageResult {
    let (round_id, code) = path.into_inner();
    let vm = UserVm::from(&user);
    let (ctx, view) = on_unit(&state, user, (round_id, code.clone()), |conn, _, s| {
        let view = filing::report_view(conn, &s.user, &s.ctx, &s.unit)?;
        Ok((s.ctx, view))
    })
    .await?;
    let back = report_address(round_id, &code);
    if !view.can_edit || !view.problems.is_empty() {
        return Ok(redirect(&back));
    }
    let t = &ctx.template;
    let mut details = vec![
        format!("Đơn vị: {}", view.unit.name),
        match period_beside_title(&ctx.round) {
            period if period.is_empty() => format!("Kỳ báo cáo: {}", ctx.round.title),
            period => format!("Kỳ báo cáo: {} ({period})", ctx.round.title),
        },
    ];
    if view.consolidated {
        details.push(
            "Số liệu: tổng hợp từ các báo cáo đã được tiếp nhận của các đơn vị trực thuộc.".into(),
        );
    } else {
        let typed = t
            .indicators
            .iter()
            .filter(|i| view.values.contains_key(&i.key))
            .count();
        let entered = t
            .indicators
            .iter()
            .filter(|i| !matches!(i.kind, report_schemas::IndicatorKind::Ratio { .. }))
            .count();
        details.push(format!("Số liệu: đã nhập {typed}/{entered} chỉ tiêu."));
    }
    let written = t
        .sections
        .iter()
        .filter(|s| view.sections.contains_key(&s.key))
        .count();
    details.push(format!(
        "Thuyết minh: đã viết {written}/{} phần.",
        t.sections.len()
    ));
    details.push(format!("Hạn nộp: {}", vn::datetime(view.deadline)));
    let page = ConfirmPage {
        user: Some(vm),
        title: "Nộp báo cáo".into(),
        question: format!("Nộp báo cáo của {} lên cấp trên?", view.unit.name),
        details,
        consequence: "Sau khi nộp, báo cáo được gửi lên Ban Tuyên giáo cấp trên để xem xét và không sửa được nữa, trừ khi được trả lại hoặc mở lại.".into(),
        action: format!("{back}/nop"),
        hidden: vec![("version".into(), view.version.to_string())],
        yes: "Nộp báo cáo".into(),
        no: "Chưa nộp, quay lại báo cáo".into(),
        back,
    };
    Ok(html(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub(super) struct SubmitForm {
    version: i32,
    #[serde(default)]
    confirm: Option<String>,
}

/// The submission, confirmed: the version confirmed is the one submitted.
pub(super) async fn submit_confirmed(
    state: web::Data<AppState>,
    PageUser(user): PageUser,
    path: web::Path<(i32, String)>,
    CheckedForm(form): CheckedForm<SubmitForm>,
) -> PageResult {
    let (round_id, code) = path.into_inner();
    if form.confirm.as_deref() != Some("1") {
        return Ok(redirect(&format!(
            "{}/nop",
            report_address(round_id, &code)
        )));
    }
    let path = (round_id, code.clone());
    let version = form.version;
    // A redirect follows, or a page read in a turn of its own: see `report_post`.
    let outcome = on_unit(&state, user.clone(), path.clone(), move |conn, _, s| {
        unread(|| filing::submit(conn, &s.user, &s.ctx, &s.unit, Some(version)))
    })
    .await;
    match outcome {
        Ok(_) => Ok(redirect(&format!(
            "{}?ok=nop",
            report_address(round_id, &code)
        ))),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            let flash = Flash::error(all_messages(&e), e.status_code());
            render_report(&state, user, path, None, flash).await
        }
        Err(e) => Err(e.into()),
    }
}

/// "Trả lại báo cáo?": the reason shown back before the report goes back to its unit.
pub(super) fn return_question(
    user: UserVm,
    (round_id, code): (i32, String),
    unit_name: &str,
    reason: &str,
) -> ConfirmPage {
    let back = report_address(round_id, &code);
    ConfirmPage {
        user: Some(user),
        title: "Trả lại báo cáo".into(),
        question: format!("Trả lại báo cáo của {unit_name} để đơn vị sửa?"),
        details: vec![format!("Lý do: {reason}")],
        consequence: "Đơn vị sẽ thấy lý do này trên trang chủ và trên báo cáo, sửa rồi nộp lại."
            .into(),
        action: format!("{back}/tra-lai"),
        hidden: vec![("reason".into(), reason.to_owned())],
        yes: "Trả lại báo cáo".into(),
        no: "Không trả lại, quay lại báo cáo".into(),
        back,
    }
}
