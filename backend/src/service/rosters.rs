//! Team rosters (point 1 of Công văn 409): who is in each commune's Tổ khoa giáo, the figures
//! a report's organisation part is pre-filled from, and the review of the teams by unit.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use report_schemas::{FieldError, RosterMeasure, Template};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use super::access::CurrentUser;
use super::audit;
use super::units::{Tree, load_subtree};
use crate::db::Conn;
use crate::db::models::{TeamMember, TeamMemberForm, Unit};
use crate::db::schema::team_members;
use crate::domain::{UnitRef, vn};
use crate::error::{AppError, AppResult};

/// Below this many members a team is flagged in the review.
pub const MIN_TEAM_SIZE: u32 = 3;

pub const POSITIONS: [(&str, &str); 3] = [
    ("to_truong", "Tổ trưởng"),
    ("to_pho", "Tổ phó"),
    ("thanh_vien", "Thành viên"),
];

pub const SEXES: [(&str, &str); 2] = [("nam", "Nam"), ("nu", "Nữ")];

/// Highest education completed; the last three count as "university degree or higher".
pub const EDUCATION: [(&str, &str); 6] = [
    ("trung_hoc", "Trung học"),
    ("trung_cap", "Trung cấp"),
    ("cao_dang", "Cao đẳng"),
    ("dai_hoc", "Đại học"),
    ("thac_si", "Thạc sĩ"),
    ("tien_si", "Tiến sĩ"),
];

/// Political theory level (trình độ lý luận chính trị).
pub const THEORY: [(&str, &str); 5] = [
    ("chua_co", "Chưa qua đào tạo"),
    ("so_cap", "Sơ cấp"),
    ("trung_cap", "Trung cấp"),
    ("cao_cap", "Cao cấp"),
    ("cu_nhan", "Cử nhân"),
];

pub fn label_of(list: &[(&str, &'static str)], key: &str) -> &'static str {
    list.iter()
        .find(|(k, _)| *k == key)
        .map_or("", |(_, label)| label)
}

fn has_degree(education: &str) -> bool {
    matches!(education, "dai_hoc" | "thac_si" | "tien_si")
}

/// On the team on `day`: joined by then and not yet left.
pub fn active_on(m: &TeamMember, day: NaiveDate) -> bool {
    m.joined_on <= day && m.left_on.is_none_or(|left| left > day)
}

/// Age reached in the year of `day`, as Vietnamese forms count it.
pub fn age_on(m: &TeamMember, day: NaiveDate) -> i32 {
    day.year() - m.birth_year
}

/// The roster's figures on one day.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct RosterFigures {
    pub members: u32,
    pub part_time: u32,
    pub women: u32,
    pub degree: u32,
    pub over_60: u32,
    pub under_40: u32,
    pub has_leader: bool,
}

impl RosterFigures {
    pub fn of(members: &[TeamMember], day: NaiveDate) -> RosterFigures {
        let mut f = RosterFigures::default();
        for m in members.iter().filter(|m| active_on(m, day)) {
            f.members += 1;
            f.part_time += u32::from(m.other_post.is_some());
            f.women += u32::from(m.sex == "nu");
            f.degree += u32::from(has_degree(&m.education));
            f.over_60 += u32::from(age_on(m, day) > 60);
            f.under_40 += u32::from(age_on(m, day) < 40);
            f.has_leader |= m.position == "to_truong";
        }
        f
    }

    fn add(&mut self, other: &RosterFigures) {
        self.members += other.members;
        self.part_time += other.part_time;
        self.women += other.women;
        self.degree += other.degree;
        self.over_60 += other.over_60;
        self.under_40 += other.under_40;
    }

    pub fn value(&self, measure: RosterMeasure) -> Json {
        match measure {
            RosterMeasure::Members => json!(self.members),
            RosterMeasure::PartTime => json!(self.part_time),
            RosterMeasure::Women => json!(self.women),
            RosterMeasure::Degree => json!(self.degree),
            RosterMeasure::Over60 => json!(self.over_60),
            RosterMeasure::HasLeader => json!(self.has_leader),
        }
    }

    /// The template's roster-linked indicators, pre-filled. Empty when the roster is.
    pub fn prefill(&self, template: &Template) -> BTreeMap<String, Json> {
        if self.members == 0 {
            return BTreeMap::new();
        }
        template
            .indicators
            .iter()
            .filter_map(|i| i.roster.map(|m| (i.key.clone(), self.value(m))))
            .collect()
    }
}

pub fn members_of(conn: &mut Conn, unit: &Unit) -> AppResult<Vec<TeamMember>> {
    let mut list: Vec<TeamMember> = crate::read_on_backend!(
        conn,
        load,
        team_members::table
            .filter(team_members::unit_id.eq(unit.id))
            .select(TeamMember::as_select())
    )?;
    list.sort_by(|a, b| {
        let rank = |p: &str| POSITIONS.iter().position(|(k, _)| *k == p).unwrap_or(9);
        (a.left_on.is_some(), rank(&a.position))
            .cmp(&(b.left_on.is_some(), rank(&b.position)))
            .then_with(|| vn::compare(&a.full_name, &b.full_name))
    });
    Ok(list)
}

/// A member as entered on the form or sent to the API.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    pub full_name: String,
    pub position: String,
    #[serde(default)]
    pub other_post: Option<String>,
    pub sex: String,
    pub birth_year: i32,
    pub education: String,
    pub theory: String,
    pub joined_on: NaiveDate,
    #[serde(default)]
    pub left_on: Option<NaiveDate>,
    /// For an edit: the version last seen.
    #[serde(default)]
    pub version: Option<i32>,
}

fn problem(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

struct Clean {
    full_name: String,
    other_post: Option<String>,
}

fn check(input: &MemberInput, today: NaiveDate) -> AppResult<Clean> {
    let mut errors = Vec::new();
    let full_name = vn::clean(input.full_name.trim());
    if full_name.is_empty() {
        errors.push(problem("full_name", "Xin nhập họ và tên."));
    } else if full_name.chars().count() > 100 {
        errors.push(problem("full_name", "Họ và tên dài quá 100 ký tự."));
    }
    let other_post = input
        .other_post
        .as_deref()
        .map(|p| vn::clean(p.trim()))
        .filter(|p| !p.is_empty());
    if other_post.as_ref().is_some_and(|p| p.chars().count() > 200) {
        errors.push(problem(
            "other_post",
            "Chức vụ kiêm nhiệm dài quá 200 ký tự.",
        ));
    }
    for (field, value, list, what) in [
        (
            "position",
            &input.position,
            &POSITIONS[..],
            "Chức danh trong Tổ",
        ),
        ("sex", &input.sex, &SEXES[..], "Giới tính"),
        (
            "education",
            &input.education,
            &EDUCATION[..],
            "Trình độ chuyên môn",
        ),
        (
            "theory",
            &input.theory,
            &THEORY[..],
            "Trình độ lý luận chính trị",
        ),
    ] {
        if !list.iter().any(|(k, _)| k == value) {
            errors.push(problem(
                field,
                format!("{what} không hợp lệ; xin chọn trong danh sách."),
            ));
        }
    }
    let this_year = today.year();
    if !(this_year - 100..=this_year - 16).contains(&input.birth_year) {
        errors.push(problem(
            "birth_year",
            format!(
                "Năm sinh phải trong khoảng {} – {}.",
                this_year - 100,
                this_year - 16
            ),
        ));
    }
    if input.joined_on > today {
        errors.push(problem("joined_on", "Ngày vào Tổ không được sau hôm nay."));
    }
    if input.left_on.is_some_and(|left| left < input.joined_on) {
        errors.push(problem(
            "left_on",
            "Ngày rời Tổ không được trước ngày vào Tổ.",
        ));
    }
    if errors.is_empty() {
        Ok(Clean {
            full_name,
            other_post,
        })
    } else {
        Err(AppError::invalid(errors))
    }
}

fn ensure_keeper(user: &CurrentUser, unit: &Unit) -> AppResult<()> {
    if user.unit.id == unit.id && user.role.files() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Chỉ đơn vị có Tổ khoa giáo này mới được sửa danh sách thành viên.".into(),
        ))
    }
}

fn member_json(m: &TeamMember) -> Json {
    json!({
        "full_name": m.full_name, "position": m.position, "other_post": m.other_post,
        "sex": m.sex, "birth_year": m.birth_year, "education": m.education, "theory": m.theory,
        "joined_on": m.joined_on, "left_on": m.left_on,
    })
}

/// Adds (`id` None) or changes a member of `unit`'s team, with its audit row.
pub fn save_member(
    conn: &mut Conn,
    user: &CurrentUser,
    unit: &Unit,
    id: Option<i32>,
    input: &MemberInput,
    now: NaiveDateTime,
) -> AppResult<TeamMember> {
    ensure_keeper(user, unit)?;
    let clean = check(input, vn::local(now).date())?;
    super::write_transaction(conn, |conn| {
        let old: Option<TeamMember> = match id {
            Some(id) => Some(
                team_members::table
                    .find(id)
                    .filter(team_members::unit_id.eq(unit.id))
                    .select(TeamMember::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| {
                        AppError::NotFound("Không tìm thấy thành viên này trong Tổ.".into())
                    })?,
            ),
            None => None,
        };
        // An edit says which version it was made on: without it, an older page would silently
        // overwrite a newer change.
        if let Some(old) = &old {
            match input.version {
                None => {
                    return Err(AppError::invalid(vec![problem(
                        "version",
                        "Thiếu phiên bản của thông tin thành viên đang sửa; xin tải lại trang rồi sửa.",
                    )]));
                }
                Some(v) if v != old.version => {
                    return Err(AppError::conflict(
                        "stale_version",
                        "Thông tin thành viên vừa được người khác sửa. Xin tải lại trang.",
                    ));
                }
                Some(_) => {}
            }
        }
        let form = TeamMemberForm {
            unit_id: unit.id,
            full_name: &clean.full_name,
            position: &input.position,
            other_post: clean.other_post.as_deref(),
            sex: &input.sex,
            birth_year: input.birth_year,
            education: &input.education,
            theory: &input.theory,
            joined_on: input.joined_on,
            left_on: input.left_on,
            version: old.as_ref().map_or(1, |m| m.version + 1),
            updated_at: now,
            updated_by: Some(user.account.id),
        };
        let id: i32 = match &old {
            Some(old) => diesel::update(team_members::table.find(old.id))
                .set(&form)
                .returning(team_members::id)
                .get_result(conn)?,
            None => diesel::insert_into(team_members::table)
                .values(&form)
                .returning(team_members::id)
                .get_result(conn)?,
        };
        let saved: TeamMember = team_members::table
            .find(id)
            .select(TeamMember::as_select())
            .get_result(conn)?;
        audit(
            conn,
            user,
            if old.is_some() {
                "edit_member"
            } else {
                "add_member"
            },
            "team_member",
            Some(saved.id),
            Some(unit.id),
            json!({ "from": old.as_ref().map(member_json), "to": member_json(&saved) }),
            now,
        )?;
        Ok(saved)
    })
}

/// One unit's line in the review of the teams.
#[derive(Debug, Clone, Serialize)]
pub struct TeamReviewRow {
    pub unit: UnitRef,
    /// Communes counted in this line.
    pub teams: u32,
    pub figures: RosterFigures,
    /// Communes below it whose team has no leader, or fewer than [`MIN_TEAM_SIZE`] members.
    pub without_leader: u32,
    pub too_small: u32,
}

impl TeamReviewRow {
    pub fn share(&self, n: u32) -> Option<f64> {
        (self.figures.members > 0).then(|| f64::from(n) * 100.0 / f64::from(self.figures.members))
    }
}

/// A team that needs attention.
#[derive(Debug, Clone, Serialize)]
pub struct WeakTeam {
    pub unit: UnitRef,
    pub parent: UnitRef,
    pub members: u32,
    pub has_leader: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TeamReview {
    pub unit: UnitRef,
    pub day: NaiveDate,
    pub rows: Vec<TeamReviewRow>,
    pub total: TeamReviewRow,
    pub weak: Vec<WeakTeam>,
}

/// The teams below `unit` on `day`: figures by direct child, and the teams lacking a leader
/// or below the minimum size.
pub fn review_teams(
    conn: &mut Conn,
    user: &CurrentUser,
    unit: &Unit,
    day: NaiveDate,
) -> AppResult<TeamReview> {
    if !user.can_read(unit) {
        return Err(AppError::forbidden());
    }
    let tree = load_subtree(conn, unit, day)?;
    let ids: Vec<i32> = tree.units.iter().map(|u| u.id).collect();
    let mut by_unit: std::collections::HashMap<i32, Vec<TeamMember>> = Default::default();
    for chunk in ids.chunks(5000) {
        let rows: Vec<TeamMember> = team_members::table
            .filter(team_members::unit_id.eq_any(chunk))
            .select(TeamMember::as_select())
            .load(conn)?;
        for m in rows {
            by_unit.entry(m.unit_id).or_default().push(m);
        }
    }
    let mut weak = Vec::new();
    let empty = Vec::new();
    fn walk(
        idx: usize,
        parent: &Unit,
        tree: &Tree,
        by_unit: &std::collections::HashMap<i32, Vec<TeamMember>>,
        empty: &Vec<TeamMember>,
        day: NaiveDate,
        weak: &mut Vec<WeakTeam>,
    ) -> TeamReviewRow {
        let u = &tree.units[idx];
        let mut row = TeamReviewRow {
            unit: u.into(),
            teams: 0,
            figures: RosterFigures::default(),
            without_leader: 0,
            too_small: 0,
        };
        match tree.children.get(&u.id) {
            None => {
                let f = RosterFigures::of(by_unit.get(&u.id).unwrap_or(empty), day);
                row.teams = 1;
                row.figures = f;
                row.without_leader = u32::from(!f.has_leader);
                row.too_small = u32::from(f.members < MIN_TEAM_SIZE);
                if !f.has_leader || f.members < MIN_TEAM_SIZE {
                    weak.push(WeakTeam {
                        unit: u.into(),
                        parent: parent.into(),
                        members: f.members,
                        has_leader: f.has_leader,
                    });
                }
            }
            Some(kids) => {
                for &k in kids {
                    let child = walk(k, u, tree, by_unit, empty, day, weak);
                    row.teams += child.teams;
                    row.figures.add(&child.figures);
                    row.without_leader += child.without_leader;
                    row.too_small += child.too_small;
                }
            }
        }
        row
    }
    let kids = tree.children.get(&unit.id).cloned().unwrap_or_default();
    let mut rows = Vec::new();
    let mut total = TeamReviewRow {
        unit: unit.into(),
        teams: 0,
        figures: RosterFigures::default(),
        without_leader: 0,
        too_small: 0,
    };
    if kids.is_empty() {
        let root = tree
            .units
            .iter()
            .position(|u| u.id == unit.id)
            .ok_or_else(|| anyhow::anyhow!("unit missing from its own subtree"))?;
        total = walk(root, unit, &tree, &by_unit, &empty, day, &mut weak);
    }
    for k in kids {
        let row = walk(k, unit, &tree, &by_unit, &empty, day, &mut weak);
        total.teams += row.teams;
        total.figures.add(&row.figures);
        total.without_leader += row.without_leader;
        total.too_small += row.too_small;
        rows.push(row);
    }
    Ok(TeamReview {
        unit: unit.into(),
        day,
        rows,
        total,
        weak,
    })
}
