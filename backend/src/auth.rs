//! Passwords (argon2id), server-side sessions behind an HTTP-only cookie, and the
//! rules of who may see and do what, always judged on the server.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use blake2::{Blake2s256, Digest};
use chrono::Duration;
use diesel::prelude::*;

use crate::AppState;
use crate::db::models::{Account, NewSession, Unit};
use crate::db::schema::{accounts, sessions, units};
use crate::db::{Conn, DbPool};
use crate::domain::{Role, vn};
use crate::error::{AppError, AppResult};

pub const SESSION_COOKIE: &str = "baocao_session";
const SESSION_HOURS: i64 = 12;

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

fn token_hash(token: &str) -> String {
    Blake2s256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A verifier hash that no password matches, so that a login for an unknown user costs
/// the same time as one with a wrong password and does not reveal which names exist.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
}

/// Checks the credentials and opens a session; `None` for a wrong name or password.
pub fn login(conn: &mut Conn, username: &str, password: &str) -> AppResult<Option<String>> {
    let account: Option<Account> = accounts::table
        .filter(accounts::username.eq(username.trim()))
        .filter(accounts::active.eq(true))
        .select(Account::as_select())
        .first(conn)
        .optional()?;
    let Some(account) = account else {
        let _ = verify_password(password, dummy_hash());
        return Ok(None);
    };
    if !verify_password(password, &account.password_hash) {
        return Ok(None);
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let now = vn::now_utc();
    diesel::insert_into(sessions::table)
        .values(NewSession {
            token_hash: &token_hash(&token),
            account_id: account.id,
            created_at: now,
            expires_at: now + Duration::hours(SESSION_HOURS),
        })
        .execute(conn)?;
    Ok(Some(token))
}

pub fn logout(conn: &mut Conn, token: &str) -> AppResult<()> {
    diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash(token))))
        .execute(conn)?;
    Ok(())
}

pub fn session_cookie(token: &str) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::hours(SESSION_HOURS))
        .finish()
}

pub fn removal_cookie() -> Cookie<'static> {
    let mut c = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .finish();
    c.make_removal();
    c
}

/// The signed-in person, with their unit and role.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub account: Account,
    pub unit: Unit,
    pub role: Role,
    /// The unit and the units it continues after reorganisations (merged communes, a merged
    /// province): a team reads, files and reviews what its predecessors did.
    pub reach: Vec<Unit>,
}

impl CurrentUser {
    /// The operator at the console (`baocao export`): an administrator's reading rights over
    /// `unit`'s subtree, and no account row behind it.
    pub fn console(unit: Unit) -> CurrentUser {
        CurrentUser {
            account: Account {
                id: 0,
                username: "console".into(),
                password_hash: String::new(),
                full_name: "Người vận hành".into(),
                unit_id: unit.id,
                role: Role::Admin.as_str().into(),
                active: true,
                created_at: vn::now_utc(),
            },
            reach: vec![unit.clone()],
            unit,
            role: Role::Admin,
        }
    }

    /// Whether this person may see `unit` (their own unit, its predecessors, or anything below).
    pub fn can_read(&self, unit: &Unit) -> bool {
        self.role == Role::Admin || self.reach.iter().any(|r| r.contains(unit))
    }

    /// Whether this person files `unit`'s report (their unit's, or a predecessor's).
    pub fn can_file(&self, unit: &Unit) -> bool {
        self.role.files() && self.reach.iter().any(|r| r.id == unit.id)
    }

    /// Whether this person reviews `unit`'s report: the board of its parent unit.
    pub fn can_review(&self, unit: &Unit) -> bool {
        self.role.reviews() && self.reach.iter().any(|r| unit.parent_id == Some(r.id))
    }
}

fn lookup(conn: &mut Conn, token: &str) -> AppResult<Option<CurrentUser>> {
    let row: Option<(Account, Unit)> = sessions::table
        .inner_join(accounts::table.inner_join(units::table))
        .filter(sessions::token_hash.eq(token_hash(token)))
        .filter(sessions::expires_at.gt(vn::now_utc()))
        .filter(accounts::active.eq(true))
        .select((Account::as_select(), Unit::as_select()))
        .first(conn)
        .optional()?;
    let Some((account, unit)) = row else {
        return Ok(None);
    };
    let Some(role) = Role::parse(&account.role) else {
        return Ok(None);
    };
    let reach = reach_of(conn, &unit)?;
    Ok(Some(CurrentUser {
        account,
        unit,
        role,
        reach,
    }))
}

/// A unit and, transitively, the units it succeeded.
pub fn reach_of(conn: &mut Conn, unit: &Unit) -> AppResult<Vec<Unit>> {
    use crate::db::schema::unit_successions;
    let mut reach = vec![unit.clone()];
    let mut frontier = vec![unit.id];
    while !frontier.is_empty() {
        let older: Vec<Unit> = unit_successions::table
            .inner_join(units::table.on(units::id.eq(unit_successions::old_unit_id)))
            .filter(unit_successions::new_unit_id.eq_any(&frontier))
            .select(Unit::as_select())
            .load(conn)?;
        frontier = older
            .iter()
            .filter(|u| !reach.iter().any(|r| r.id == u.id))
            .map(|u| u.id)
            .collect();
        reach.extend(older.into_iter().filter(|u| frontier.contains(&u.id)));
    }
    Ok(reach)
}

pub async fn current_user(pool: &DbPool, req: &HttpRequest) -> AppResult<Option<CurrentUser>> {
    let Some(token) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(None);
    };
    if token.is_empty() {
        return Ok(None);
    }
    let pool = pool.clone();
    web::block(move || {
        let mut conn = pool.get()?;
        lookup(&mut conn, &token)
    })
    .await?
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("app state missing")))?;
            current_user(&state.pool, &req)
                .await?
                .ok_or(AppError::Unauthenticated)
        })
    }
}
