//! Rows as read from the database, and the forms used to write them.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{
    accounts, audit_log, reports, review_events, round_tasks, rounds, sessions, team_members,
    templates, units,
};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = units)]
pub struct Unit {
    pub id: i32,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<i32>,
    pub path: String,
    pub depth: i32,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

impl Unit {
    /// Whether `other` is this unit or lies below it.
    pub fn contains(&self, other: &Unit) -> bool {
        other.path.starts_with(&self.path)
    }

    /// Whether the unit existed on `day` (its validity window includes it).
    pub fn valid_on(&self, day: NaiveDate) -> bool {
        self.valid_from.is_none_or(|from| from <= day) && self.valid_to.is_none_or(|to| to >= day)
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = units)]
pub struct NewUnit<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub parent_id: Option<i32>,
    pub path: &'a str,
    pub depth: i32,
    pub valid_from: Option<NaiveDate>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = accounts)]
pub struct Account {
    pub id: i32,
    pub username: String,
    pub password_hash: String,
    pub full_name: String,
    pub unit_id: i32,
    pub role: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The password is a one-time one, handed out by the board above: the next login must
    /// choose a new one.
    pub must_change_password: bool,
    pub last_login_at: Option<NaiveDateTime>,
    /// The login before the last, shown to the person as their previous login.
    pub previous_login_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = accounts)]
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    pub full_name: &'a str,
    pub unit_id: i32,
    pub role: &'a str,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub must_change_password: bool,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub account_id: i32,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    /// The client's address and browser, for the person to recognise the session by.
    pub address: Option<&'a str>,
    pub agent: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = templates)]
pub struct TemplateRow {
    pub id: i32,
    pub key: String,
    pub version: i32,
    pub title: String,
    pub source: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = templates)]
pub struct NewTemplateRow<'a> {
    pub key: &'a str,
    pub version: i32,
    pub title: &'a str,
    pub source: &'a str,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = rounds)]
pub struct Round {
    pub id: i32,
    pub template_id: i32,
    pub owner_unit_id: i32,
    pub title: String,
    pub period_type: String,
    pub period_year: i32,
    pub period_index: i32,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub commune_deadline: NaiveDateTime,
    pub district_deadline: NaiveDateTime,
    pub status: String,
    pub created_by: Option<i32>,
    pub created_at: NaiveDateTime,
    pub orientation: String,
    pub closed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = rounds)]
pub struct NewRound<'a> {
    pub template_id: i32,
    pub owner_unit_id: i32,
    pub title: &'a str,
    pub period_type: &'a str,
    pub period_year: i32,
    pub period_index: i32,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub commune_deadline: NaiveDateTime,
    pub district_deadline: NaiveDateTime,
    pub status: &'a str,
    pub created_by: Option<i32>,
    pub created_at: NaiveDateTime,
    pub orientation: &'a str,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = round_tasks)]
pub struct RoundTask {
    pub id: i32,
    pub round_id: i32,
    pub unit_id: i32,
    pub position: i32,
    pub text: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = round_tasks)]
pub struct NewRoundTask<'a> {
    pub round_id: i32,
    pub unit_id: i32,
    pub position: i32,
    pub text: &'a str,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = reports)]
pub struct Report {
    pub id: i32,
    pub round_id: i32,
    pub unit_id: i32,
    pub status: String,
    pub values_json: String,
    pub sections_json: String,
    pub version: i32,
    pub first_submitted_at: Option<NaiveDateTime>,
    pub submitted_at: Option<NaiveDateTime>,
    pub reviewed_at: Option<NaiveDateTime>,
    pub reviewed_by: Option<i32>,
    pub return_reason: Option<String>,
    pub updated_at: NaiveDateTime,
    pub updated_by: Option<i32>,
    pub included_json: Option<String>,
    pub prefill_json: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = reports)]
pub struct NewReport<'a> {
    pub round_id: i32,
    pub unit_id: i32,
    pub status: &'a str,
    pub values_json: &'a str,
    pub sections_json: &'a str,
    pub version: i32,
    pub first_submitted_at: Option<NaiveDateTime>,
    pub submitted_at: Option<NaiveDateTime>,
    pub reviewed_at: Option<NaiveDateTime>,
    pub reviewed_by: Option<i32>,
    pub return_reason: Option<&'a str>,
    pub updated_at: NaiveDateTime,
    pub updated_by: Option<i32>,
    pub included_json: Option<&'a str>,
    pub prefill_json: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = review_events)]
pub struct ReviewEvent {
    pub id: i32,
    pub report_id: i32,
    pub action: String,
    pub reason: Option<String>,
    pub actor_id: i32,
    pub at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = review_events)]
pub struct NewReviewEvent<'a> {
    pub report_id: i32,
    pub action: &'a str,
    pub reason: Option<&'a str>,
    pub actor_id: i32,
    pub at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_log)]
pub struct NewAuditEntry<'a> {
    pub at: NaiveDateTime,
    pub actor_id: Option<i32>,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<i32>,
    pub unit_id: Option<i32>,
    pub details: &'a str,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, serde::Serialize)]
#[diesel(table_name = team_members)]
pub struct TeamMember {
    pub id: i32,
    pub unit_id: i32,
    pub full_name: String,
    pub position: String,
    pub other_post: Option<String>,
    pub sex: String,
    pub birth_year: i32,
    pub education: String,
    pub theory: String,
    pub joined_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
    pub version: i32,
    pub updated_at: NaiveDateTime,
    pub updated_by: Option<i32>,
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = team_members)]
#[diesel(treat_none_as_null = true)]
pub struct TeamMemberForm<'a> {
    pub unit_id: i32,
    pub full_name: &'a str,
    pub position: &'a str,
    pub other_post: Option<&'a str>,
    pub sex: &'a str,
    pub birth_year: i32,
    pub education: &'a str,
    pub theory: &'a str,
    pub joined_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
    pub version: i32,
    pub updated_at: NaiveDateTime,
    pub updated_by: Option<i32>,
}
