//! Passwords (argon2id) and server-side sessions: a session is a random token whose hash is
//! stored, so a copy of the database opens no session.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use blake2::{Blake2s256, Digest};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::access::{CurrentUser, reach_of};
use crate::config::Sessions;
use crate::db::Conn;
use crate::db::models::{Account, NewSession, Unit};
use crate::db::schema::{accounts, sessions, units};
use crate::domain::{Role, vn};
use crate::error::AppResult;

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
    hex(&Blake2s256::digest(token.as_bytes()))
}

/// `bytes` in lower-case hexadecimal: every request's session is looked up by such a hash,
/// and written out a byte at a time through `format!` it was a hundredth of a rush's CPU.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// What is wrong with a new password, in Vietnamese, or `None` if it will do: long enough,
/// and not easy to guess by zxcvbn's estimate (score 3 of 4: about 10^10 guesses), knowing the
/// person's own names and codes (`hints`), which must not make it up.
pub fn password_problem(password: &str, hints: &[&str]) -> Option<String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Some(format!(
            "Mật khẩu cần ít nhất {MIN_PASSWORD_CHARS} ký tự; nên dùng một câu ngắn dễ nhớ, ví dụ ba bốn từ không liền nghĩa."
        ));
    }
    // Names are typed without their marks and spaces as often as with them.
    let folded: Vec<String> = hints.iter().map(|h| vn::fold(h)).collect();
    let mut inputs: Vec<&str> = hints.to_vec();
    inputs.extend(folded.iter().map(String::as_str));
    inputs.extend(["baocao", "khoagiao", "tuyengiao", "matkhau"]);
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if (estimate.score() as u8) < 3 {
        return Some(
            "Mật khẩu quá dễ đoán: xin đừng dùng tên, mã đơn vị, ngày sinh, số điện thoại hay các dãy phím liền nhau; nên dùng ba bốn từ không liền nghĩa, hoặc trộn chữ, số và ký hiệu."
                .into(),
        );
    }
    None
}

/// The anti-forgery token of a session: derived from the session's secret token, so that only
/// a page served to that session knows it, it survives a restart of the server, and it changes
/// with every new login. A form posted without it did not come from one of our pages.
pub fn csrf_token(session_token: &str) -> String {
    let mut hasher = Blake2s256::new();
    hasher.update(b"baocao csrf\0");
    hasher.update(session_token.as_bytes());
    hex(&hasher.finalize())
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
    Ok(hex(&bytes))
}

/// A verifier hash that no password matches, so that a login for an unknown user costs
/// the same time as one with a wrong password and does not reveal which names exist.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
}

/// Checks the credentials and opens a session; `None` for a wrong name or password.
/// The active account with `username`, if there is one, for a login to check its password.
pub fn account_for_login(conn: &mut Conn, username: &str) -> AppResult<Option<Account>> {
    Ok(accounts::table
        .filter(accounts::username.eq(username.trim()))
        .filter(accounts::active.eq(true))
        .select(Account::as_select())
        .first(conn)
        .optional()?)
}

/// Whether `password` is the account's. An unknown account costs the same time as a wrong
/// password, so that a login does not reveal which names exist. Needs no database: it runs
/// without holding a connection.
pub fn password_matches(password: &str, account: Option<&Account>) -> bool {
    match account {
        Some(account) => verify_password(password, &account.password_hash),
        None => {
            let _ = verify_password(password, dummy_hash());
            false
        }
    }
}

/// Where a login comes from, for the person to recognise their sessions by.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub address: String,
    pub agent: String,
}

/// Opens a session for the account and returns its secret token; records the login; sessions
/// that have ended are removed on the way.
pub fn open_session(
    conn: &mut Conn,
    account_id: i32,
    policy: &Sessions,
    client: &Client,
) -> AppResult<String> {
    let token = random_token()?;
    let now = vn::now_utc();
    let agent: String = client.agent.chars().take(200).collect();
    super::unshown_write_transaction(conn, |conn| {
        remove_ended(conn, now, policy)?;
        diesel::insert_into(sessions::table)
            .values(NewSession {
                token_hash: &token_hash(&token),
                account_id,
                created_at: now,
                expires_at: now + Duration::hours(policy.hours),
                address: Some(&client.address),
                agent: Some(&agent),
            })
            .execute(conn)?;
        diesel::update(accounts::table.find(account_id))
            .set((
                accounts::previous_login_at.eq(accounts::last_login_at),
                accounts::last_login_at.eq(Some(now)),
            ))
            .execute(conn)?;
        Ok(())
    })?;
    Ok(token)
}

/// Removes the sessions past their absolute end, or unused for longer than the idle time.
fn remove_ended(conn: &mut Conn, now: NaiveDateTime, policy: &Sessions) -> AppResult<()> {
    let idle_since = now - Duration::minutes(policy.idle_minutes);
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)?;
    diesel::delete(sessions::table.filter(sessions::last_seen_at.lt(idle_since))).execute(conn)?;
    diesel::delete(
        sessions::table
            .filter(sessions::last_seen_at.is_null())
            .filter(sessions::created_at.lt(idle_since)),
    )
    .execute(conn)?;
    Ok(())
}

pub fn logout(conn: &mut Conn, token: &str) -> AppResult<()> {
    diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash(token))))
        .execute(conn)?;
    Ok(())
}

/// One of a person's live sessions, as they see it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SessionView {
    /// Names the session without revealing its secret: the start of its token's hash.
    pub id: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: Option<NaiveDateTime>,
    pub address: Option<String>,
    pub agent: Option<String>,
    /// The session this very request came with.
    pub current: bool,
}

const SESSION_ID_CHARS: usize = 16;

/// A session row as listed: its hash, opened, last used, address, browser.
type SessionRow = (
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<String>,
    Option<String>,
);

/// The person's live sessions, newest first.
pub fn own_sessions(
    conn: &mut Conn,
    user: &CurrentUser,
    policy: &Sessions,
) -> AppResult<Vec<SessionView>> {
    let now = vn::now_utc();
    let idle_since = now - Duration::minutes(policy.idle_minutes);
    let rows: Vec<SessionRow> = sessions::table
        .filter(sessions::account_id.eq(user.account.id))
        .filter(sessions::expires_at.gt(now))
        .order(sessions::created_at.desc())
        .select((
            sessions::token_hash,
            sessions::created_at,
            sessions::last_seen_at,
            sessions::address,
            sessions::agent,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(_, created, seen, _, _)| seen.unwrap_or(*created) >= idle_since)
        .map(
            |(hash, created_at, last_seen_at, address, agent)| SessionView {
                current: user.session.as_deref() == Some(hash.as_str()),
                id: hash.chars().take(SESSION_ID_CHARS).collect(),
                created_at,
                last_seen_at,
                address,
                agent,
            },
        )
        .collect())
}

/// Ends one of the person's own sessions, named by its id; another person's is never found.
pub fn end_own_session(conn: &mut Conn, user: &CurrentUser, id: &str) -> AppResult<()> {
    if id.len() != SESSION_ID_CHARS || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(crate::error::AppError::NotFound(
            "Không tìm thấy phiên đăng nhập này.".into(),
        ));
    }
    let n = diesel::delete(
        sessions::table
            .filter(sessions::account_id.eq(user.account.id))
            .filter(sessions::token_hash.like(format!("{id}%"))),
    )
    .execute(conn)?;
    if n == 0 {
        return Err(crate::error::AppError::NotFound(
            "Không tìm thấy phiên đăng nhập này.".into(),
        ));
    }
    Ok(())
}

/// Ends every session of the person but this one.
pub fn end_other_sessions(conn: &mut Conn, user: &CurrentUser) -> AppResult<usize> {
    let mut query = diesel::delete(sessions::table)
        .filter(sessions::account_id.eq(user.account.id))
        .into_boxed();
    if let Some(current) = &user.session {
        query = query.filter(sessions::token_hash.ne(current.clone()));
    }
    Ok(query.execute(conn)?)
}

/// How stale a session's last use may be recorded: it is written at most this often, not on
/// every request.
const SEEN_EVERY_SECONDS: i64 = 60;

/// The person whose session `token` is, if the session is live: not past its absolute end,
/// not unused for longer than the idle time, its account active. Using it keeps it alive.
pub fn user_for_token(
    conn: &mut Conn,
    token: &str,
    policy: &Sessions,
) -> AppResult<Option<CurrentUser>> {
    let now = vn::now_utc();
    let hash = token_hash(token);
    let row: Option<(Account, Unit, NaiveDateTime, Option<NaiveDateTime>)> =
        crate::read_on_backend!(
            conn,
            first,
            sessions::table
                .inner_join(accounts::table.inner_join(units::table))
                .filter(sessions::token_hash.eq(&hash))
                .filter(sessions::expires_at.gt(now))
                .filter(accounts::active.eq(true))
                .select((
                    Account::as_select(),
                    Unit::as_select(),
                    sessions::created_at,
                    sessions::last_seen_at,
                ))
        )
        .optional()?;
    let Some((account, unit, created_at, last_seen_at)) = row else {
        return Ok(None);
    };
    let seen = last_seen_at.unwrap_or(created_at);
    if now - seen > Duration::minutes(policy.idle_minutes) {
        return Ok(None);
    }
    if now - seen > Duration::seconds(SEEN_EVERY_SECONDS) {
        super::unshown_write_transaction(conn, |conn| {
            diesel::update(sessions::table.filter(sessions::token_hash.eq(&hash)))
                .set(sessions::last_seen_at.eq(Some(now)))
                .execute(conn)?;
            Ok(())
        })?;
    }
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
        session: Some(hash),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_written_as_before_two_lower_case_digits_a_byte() {
        // Sessions stored before are looked up by their hashes written this way.
        let every: Vec<u8> = (0..=255).collect();
        let before: String = every.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex(&every), before);
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }

    #[test]
    fn a_new_password_must_be_long_and_hard_to_guess() {
        assert!(
            password_problem("ngan", &[])
                .unwrap()
                .contains("ít nhất 10")
        );
        for weak in [
            "1234567890",
            "matkhau123",
            "thaibinh2025",
            "qwertyuiop",
            "12475abcdef",
        ] {
            assert!(
                password_problem(weak, &["12475", "Thái Bình"]).is_some(),
                "{weak}"
            );
        }
        assert!(password_problem("sông Trà khúc núi Ấn", &[]).is_none());
        assert!(password_problem("ruong-lua-xanh-mat-7", &[]).is_none());
    }
}
