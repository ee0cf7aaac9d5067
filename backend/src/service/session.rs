//! Passwords (argon2id) and server-side sessions: a session is a random token whose hash is
//! stored, so a copy of the database opens no session.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use blake2::{Blake2s256, Digest};
use chrono::Duration;
use diesel::prelude::*;

use super::access::{CurrentUser, reach_of};
use crate::db::Conn;
use crate::db::models::{Account, NewSession, Unit};
use crate::db::schema::{accounts, sessions, units};
use crate::domain::{Role, vn};
use crate::error::AppResult;

pub const SESSION_HOURS: i64 = 12;

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

/// The anti-forgery token of a session: derived from the session's secret token, so that only
/// a page served to that session knows it, it survives a restart of the server, and it changes
/// with every new login. A form posted without it did not come from one of our pages.
pub fn csrf_token(session_token: &str) -> String {
    let mut hasher = Blake2s256::new();
    hasher.update(b"baocao csrf\0");
    hasher.update(session_token.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether two tokens are equal, in time that does not depend on where they differ.
pub fn tokens_match(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && !a.is_empty()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A random token (256 bits, hex): a session's secret, or a login form's.
pub fn random_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
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
    let token = random_token()?;
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

pub fn user_for_token(conn: &mut Conn, token: &str) -> AppResult<Option<CurrentUser>> {
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
        csrf: csrf_token(token),
    }))
}
