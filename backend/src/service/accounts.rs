//! Accounts for real people: several named accounts per unit, administered as the work is. The
//! administrator manages every account; a board manages the accounts of the units right below
//! it (a district its communes', the province its districts'). A new account, and a reset one,
//! gets a one-time password, handed out on paper by the board above, to be changed at the next
//! login. Accounts are never deleted, only deactivated, so the audit trail keeps their names.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use report_schemas::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::access::CurrentUser;
use super::audit;
use super::session::{self, hash_password};
use super::units::unit_by_code;
use crate::db::Conn;
use crate::db::models::{Account, NewAccount, Unit};
use crate::db::schema::{accounts, sessions, units};
use crate::domain::{Role, UnitRef, vn};
use crate::error::{AppError, AppResult};

/// An account as the boards see it (never its password).
#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    pub id: i32,
    pub username: String,
    pub full_name: String,
    pub unit: UnitRef,
    pub role: Role,
    pub role_label: &'static str,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    /// Still on the one-time password handed out.
    pub must_change_password: bool,
    pub last_login_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl AccountView {
    fn of(account: Account, unit: &Unit) -> AccountView {
        let role = Role::parse(&account.role).unwrap_or(Role::Commune);
        AccountView {
            id: account.id,
            username: account.username,
            full_name: account.full_name,
            unit: unit.into(),
            role,
            role_label: role.label(),
            phone: account.phone,
            email: account.email,
            active: account.active,
            must_change_password: account.must_change_password,
            last_login_at: account.last_login_at,
            created_at: account.created_at,
        }
    }
}

/// An account just created or reset, with the one-time password to hand out. The password is
/// shown once and kept nowhere.
#[derive(Debug, Clone, Serialize)]
pub struct Handout {
    pub account: AccountView,
    pub password: String,
}

/// A new account as typed (in a form, a JSON body, or a row of a sheet).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountInput {
    /// The unit's code.
    pub unit: String,
    pub username: String,
    pub full_name: String,
    /// `commune`, `district`, `province` or `admin`; by default, the one of the unit's level.
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

fn not_managed() -> AppError {
    AppError::Forbidden(
        "Bạn không quản lý tài khoản của đơn vị này: Ban Tuyên giáo cấp trên trực tiếp hoặc quản trị hệ thống mới quản lý.".into(),
    )
}

/// Whether `user` manages the accounts of `unit`: the administrator, or the board of its parent.
pub fn manages(user: &CurrentUser, unit: &Unit) -> bool {
    user.role == Role::Admin
        || (user.role.reviews() && user.reach.iter().any(|r| unit.parent_id == Some(r.id)))
}

/// The role an account of a unit of this level has.
fn role_of_level(kind: &str) -> Role {
    match kind {
        "province" => Role::Province,
        "nation" => Role::National,
        "district" => Role::District,
        _ => Role::Commune,
    }
}

/// The accounts `user` manages, by unit (in Vietnamese order), then by name.
pub fn managed(conn: &mut Conn, user: &CurrentUser) -> AppResult<Vec<AccountView>> {
    let mut query = accounts::table
        .inner_join(units::table)
        .select((Account::as_select(), Unit::as_select()))
        .into_boxed();
    if user.role != Role::Admin {
        if !user.role.reviews() {
            return Ok(Vec::new());
        }
        let boards: Vec<i32> = user.reach.iter().map(|r| r.id).collect();
        query = query.filter(units::parent_id.eq_any(boards));
    }
    let mut rows: Vec<(Account, Unit)> = query.load(conn)?;
    rows.sort_by(|(a, ua), (b, ub)| {
        vn::compare(&ua.name, &ub.name).then_with(|| vn::compare(&a.full_name, &b.full_name))
    });
    Ok(rows
        .into_iter()
        .map(|(a, u)| AccountView::of(a, &u))
        .collect())
}

/// The units whose accounts `user` manages, as they exist now, in Vietnamese order.
pub fn manageable_units(conn: &mut Conn, user: &CurrentUser) -> AppResult<Vec<UnitRef>> {
    let mut query = units::table
        .filter(units::valid_to.is_null())
        .select(Unit::as_select())
        .into_boxed();
    if user.role != Role::Admin {
        if !user.role.reviews() {
            return Ok(Vec::new());
        }
        let boards: Vec<i32> = user.reach.iter().map(|r| r.id).collect();
        query = query.filter(units::parent_id.eq_any(boards));
    }
    let mut list: Vec<Unit> = query.load(conn)?;
    list.sort_by(|a, b| {
        a.depth
            .cmp(&b.depth)
            .then_with(|| vn::compare(&a.name, &b.name))
    });
    Ok(list.iter().map(UnitRef::from).collect())
}

/// The account with `id`, if `user` manages it; one refusal for a foreign and a missing one.
fn managed_account(conn: &mut Conn, user: &CurrentUser, id: i32) -> AppResult<(Account, Unit)> {
    let row: Option<(Account, Unit)> = accounts::table
        .inner_join(units::table)
        .filter(accounts::id.eq(id))
        .select((Account::as_select(), Unit::as_select()))
        .first(conn)
        .optional()?;
    match row {
        Some((account, unit)) if manages(user, &unit) => Ok((account, unit)),
        _ => Err(not_managed()),
    }
}

fn problem(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// A one-time password: 12 letters and digits in groups, without look-alikes (0/O, 1/l/I), to
/// be read off paper and typed once.
pub fn one_time_password() -> AppResult<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// An account ready to be stored: checked, its unit found and managed by `user`.
struct Checked {
    unit: Unit,
    username: String,
    full_name: String,
    role: Role,
    phone: Option<String>,
    email: Option<String>,
}

fn clean_optional(text: &Option<String>) -> Option<String> {
    text.as_deref()
        .map(|t| vn::clean(t.trim()))
        .filter(|t| !t.is_empty())
}

/// Checks one account as typed; `prefix` names the row of a sheet in the messages.
fn check(
    conn: &mut Conn,
    user: &CurrentUser,
    input: &AccountInput,
    prefix: &str,
    errors: &mut Vec<FieldError>,
) -> AppResult<Option<Checked>> {
    let before = errors.len();
    let username = input.username.trim().to_owned();
    if username.chars().count() < 2
        || username.chars().count() > 64
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        errors.push(problem(
            "username",
            format!("{prefix}Tên đăng nhập gồm 2 đến 64 chữ cái không dấu, chữ số, dấu chấm, gạch ngang hoặc gạch dưới, ví dụ «nguyen.van.an» hay «12475-totruong»."),
        ));
    }
    let full_name = vn::clean(input.full_name.trim());
    if full_name.chars().count() < 2 || full_name.chars().count() > 100 {
        errors.push(problem(
            "full_name",
            format!("{prefix}Xin ghi họ và tên (2 đến 100 ký tự)."),
        ));
    }
    let phone = clean_optional(&input.phone);
    if let Some(p) = &phone {
        let digits = p.chars().filter(char::is_ascii_digit).count();
        if !(8..=15).contains(&digits)
            || !p
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '.' | '-'))
        {
            errors.push(problem(
                "phone",
                format!(
                    "{prefix}Số điện thoại không hợp lệ (8 đến 15 chữ số), ví dụ 0912 345 678."
                ),
            ));
        }
    }
    let email = clean_optional(&input.email);
    if let Some(e) = &email
        && !validator::ValidateEmail::validate_email(e)
    {
        errors.push(problem(
            "email",
            format!("{prefix}Địa chỉ thư điện tử không hợp lệ, ví dụ ten@tinhuy.vn."),
        ));
    }
    let unit = match crate::domain::UnitCode::parse(&input.unit) {
        Some(code) => unit_by_code(conn, code.as_str(), None)?,
        None => None,
    }
    .filter(|u| u.valid_to.is_none() && manages(user, u));
    let Some(unit) = unit else {
        errors.push(problem(
            "unit",
            format!(
                "{prefix}Không có đơn vị mã «{}» trong các đơn vị bạn quản lý tài khoản.",
                input.unit.trim()
            ),
        ));
        return Ok(None);
    };
    let role = match input
        .role
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        None => role_of_level(&unit.kind),
        Some(text) => match Role::parse(text) {
            Some(Role::Admin) if user.role == Role::Admin && unit.parent_id.is_none() => {
                Role::Admin
            }
            Some(role) if role == role_of_level(&unit.kind) => role,
            _ => {
                errors.push(problem(
                    "role",
                    format!(
                        "{prefix}Vai trò «{text}» không hợp với đơn vị {} (vai trò của đơn vị này: {}).",
                        unit.name,
                        role_of_level(&unit.kind).as_str()
                    ),
                ));
                role_of_level(&unit.kind)
            }
        },
    };
    if errors.len() > before {
        return Ok(None);
    }
    Ok(Some(Checked {
        unit,
        username,
        full_name,
        role,
        phone,
        email,
    }))
}

/// Creates accounts, all or none: every row is checked first, and a single problem anywhere
/// creates nothing. Each gets a one-time password, hashed before the write lock is taken.
pub fn create(
    conn: &mut Conn,
    user: &CurrentUser,
    inputs: &[AccountInput],
    now: NaiveDateTime,
) -> AppResult<Vec<Handout>> {
    if user.role != Role::Admin && !user.role.reviews() {
        return Err(not_managed());
    }
    let mut errors = Vec::new();
    let mut checked = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, input) in inputs.iter().enumerate() {
        let prefix = if inputs.len() > 1 {
            format!("Dòng {}: ", i + 2)
        } else {
            String::new()
        };
        let name = input.username.trim();
        if !name.is_empty()
            && let Some(first) = seen.insert(name.to_lowercase(), i)
        {
            errors.push(problem(
                "username",
                format!(
                    "{prefix}Tên đăng nhập «{name}» trùng với dòng {}.",
                    first + 2
                ),
            ));
        }
        if let Some(c) = check(conn, user, input, &prefix, &mut errors)? {
            checked.push(c);
        }
    }
    let wanted: Vec<String> = checked.iter().map(|c| c.username.clone()).collect();
    let taken: BTreeSet<String> = accounts::table
        .filter(accounts::username.eq_any(&wanted))
        .select(accounts::username)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    for name in &taken {
        errors.push(problem(
            "username",
            format!("Tên đăng nhập «{name}» đã có người dùng; xin chọn tên khác."),
        ));
    }
    if inputs.is_empty() {
        errors.push(problem("file", "Không có tài khoản nào để tạo."));
    }
    if !errors.is_empty() {
        return Err(AppError::invalid(errors));
    }
    let mut prepared = Vec::with_capacity(checked.len());
    for c in checked {
        let password = one_time_password()?;
        let hash = hash_password(&password)?;
        prepared.push((c, password, hash));
    }
    super::write_transaction(conn, |conn| {
        let mut out = Vec::with_capacity(prepared.len());
        for (c, password, hash) in prepared {
            let id: i32 = diesel::insert_into(accounts::table)
                .values(NewAccount {
                    username: &c.username,
                    password_hash: &hash,
                    full_name: &c.full_name,
                    unit_id: c.unit.id,
                    role: c.role.as_str(),
                    active: true,
                    created_at: now,
                    phone: c.phone.as_deref(),
                    email: c.email.as_deref(),
                    must_change_password: true,
                })
                .returning(accounts::id)
                .get_result(conn)?;
            audit(
                conn,
                user,
                "create_account",
                "account",
                Some(id),
                Some(c.unit.id),
                json!({ "username": c.username, "full_name": c.full_name, "role": c.role.as_str() }),
                now,
            )?;
            out.push(Handout {
                account: reloaded(conn, id, &c.unit)?,
                password,
            });
        }
        Ok(out)
    })
}

/// The account with `id` as it is now, of `unit`.
fn reloaded(conn: &mut Conn, id: i32, unit: &Unit) -> AppResult<AccountView> {
    let account: Account = accounts::table
        .find(id)
        .select(Account::as_select())
        .first(conn)?;
    Ok(AccountView::of(account, unit))
}

fn end_sessions(conn: &mut Conn, account_id: i32, except: Option<&str>) -> AppResult<usize> {
    let mut query = diesel::delete(sessions::table)
        .filter(sessions::account_id.eq(account_id))
        .into_boxed();
    if let Some(keep) = except {
        query = query.filter(sessions::token_hash.ne(keep));
    }
    Ok(query.execute(conn)?)
}

/// Gives a managed account a new one-time password; its sessions end at once.
pub fn reset_password(
    conn: &mut Conn,
    user: &CurrentUser,
    id: i32,
    now: NaiveDateTime,
) -> AppResult<Handout> {
    let (account, unit) = managed_account(conn, user, id)?;
    if account.id == user.account.id {
        return Err(AppError::conflict(
            "own_account",
            "Không đặt lại mật khẩu của chính mình ở đây: xin dùng «Đổi mật khẩu».",
        ));
    }
    let password = one_time_password()?;
    let hash = hash_password(&password)?;
    super::write_transaction(conn, |conn| {
        diesel::update(accounts::table.find(id))
            .set((
                accounts::password_hash.eq(&hash),
                accounts::must_change_password.eq(true),
            ))
            .execute(conn)?;
        let ended = end_sessions(conn, id, None)?;
        audit(
            conn,
            user,
            "reset_password",
            "account",
            Some(id),
            Some(unit.id),
            json!({ "username": account.username, "sessions_ended": ended }),
            now,
        )?;
        Ok(())
    })?;
    Ok(Handout {
        account: reloaded(conn, id, &unit)?,
        password,
    })
}

/// Deactivates (the person's sessions end at once) or reactivates a managed account.
pub fn set_active(
    conn: &mut Conn,
    user: &CurrentUser,
    id: i32,
    active: bool,
    now: NaiveDateTime,
) -> AppResult<AccountView> {
    let (account, unit) = managed_account(conn, user, id)?;
    if account.id == user.account.id {
        return Err(AppError::conflict(
            "own_account",
            "Không tự khóa tài khoản của chính mình.",
        ));
    }
    super::write_transaction(conn, |conn| {
        diesel::update(accounts::table.find(id))
            .set(accounts::active.eq(active))
            .execute(conn)?;
        let ended = if active {
            0
        } else {
            end_sessions(conn, id, None)?
        };
        audit(
            conn,
            user,
            if active {
                "reactivate_account"
            } else {
                "deactivate_account"
            },
            "account",
            Some(id),
            Some(unit.id),
            json!({ "username": account.username, "sessions_ended": ended }),
            now,
        )?;
        Ok(())
    })?;
    reloaded(conn, id, &unit)
}

/// The person changes their own password, giving the current one; their other sessions end.
pub fn change_own_password(
    conn: &mut Conn,
    user: &CurrentUser,
    current: &str,
    new: &str,
    now: NaiveDateTime,
) -> AppResult<()> {
    if user.session.is_none() {
        return Err(AppError::forbidden());
    }
    if !session::verify_password(current, &user.account.password_hash) {
        return Err(AppError::invalid(vec![problem(
            "current",
            "Mật khẩu hiện tại không đúng.",
        )]));
    }
    if new == current {
        return Err(AppError::invalid(vec![problem(
            "new",
            "Mật khẩu mới phải khác mật khẩu hiện tại.",
        )]));
    }
    let hints = [
        user.account.username.as_str(),
        user.account.full_name.as_str(),
        user.unit.name.as_str(),
        user.unit.code.as_str(),
    ];
    if let Some(message) = session::password_problem(new, &hints) {
        return Err(AppError::invalid(vec![problem("new", message)]));
    }
    let hash = hash_password(new)?;
    super::write_transaction(conn, |conn| {
        diesel::update(accounts::table.find(user.account.id))
            .set((
                accounts::password_hash.eq(&hash),
                accounts::must_change_password.eq(false),
            ))
            .execute(conn)?;
        let ended = end_sessions(conn, user.account.id, user.session.as_deref())?;
        audit(
            conn,
            user,
            "change_password",
            "account",
            Some(user.account.id),
            Some(user.unit.id),
            json!({ "username": user.account.username, "sessions_ended": ended }),
            now,
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_passwords_are_long_random_and_free_of_look_alikes() {
        let a = one_time_password().unwrap();
        let b = one_time_password().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 14, "{a}");
        assert!(
            a.chars()
                .all(|c| c == '-' || "abcdefghijkmnpqrstuvwxyz23456789".contains(c))
        );
        assert!(
            session::password_problem(&a, &[]).is_none(),
            "strong enough: {a}"
        );
    }
}
