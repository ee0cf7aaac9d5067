//! Pages kept between requests. The leadership's pages of a round (a unit's page with its
//! dashboard, its consolidation as JSON, its charts) are asked for again and again, by many
//! people at once, while nothing they show has changed; each costs milliseconds of CPU to
//! build. A page built for one person is kept and served to them again while all of these
//! hold:
//! - this server has committed no write since (any write but a session's own: a report, a
//!   roster, a unit, an account; [`crate::service::WriteCount`]);
//! - the round's consolidation is the one the page was built from (its root's stamp, read
//!   from the database: a report moved by another server behind the same database counts too);
//! - it was built less than [`MAX_AGE`] ago: what another server or process changed outside the
//!   round's consolidation, and what the passing of time changes (a deadline passed, a day
//!   later), shows within that.
//!
//! A request that asks for a fresh page (`Cache-Control: no-cache`, what a browser sends on a
//! forced reload) gets one built, which is kept in place of the old.
//!
//! Only to the same session (a page holds its session's form token) or, for what holds
//! nothing of the session (JSON, a chart), to the same account; the session is checked on every
//! request before anything is served. Bounded: at most [`MAX_BYTES`] in all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use actix_web::body::{BodySize, MessageBody};
use actix_web::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, HeaderMap, HeaderValue, PRAGMA, SET_COOKIE,
    VARY,
};
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};

use super::db;
use crate::AppState;
use crate::error::AppError;
use crate::service::{CurrentUser, rollup};

/// How long a kept page may be served at most.
pub const MAX_AGE: Duration = Duration::from_secs(10);
/// All kept pages together, at most (their compressed copies, about a fifth as large, aside).
pub const MAX_BYTES: usize = 32 << 20;
/// A page larger than this is not kept.
const MAX_PAGE: usize = 4 << 20;

/// Who a kept page may be served to again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Share {
    /// The same session: the page holds its form token.
    Session,
    /// Any session of the same account: the answer holds nothing of the session.
    Account,
}

/// Whom a page built for `user` may be served to again (`None`: nobody).
pub fn viewer(user: &CurrentUser, share: Share) -> Option<String> {
    match share {
        Share::Session => user.session.as_ref().map(|s| format!("session {s}")),
        Share::Account => Some(format!("account {}", user.account.id)),
    }
}

/// What a page was built from: this server's writes, the round's consolidation.
type Version = (u64, i64);

struct Page {
    version: Version,
    built: Instant,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    /// The body compressed with gzip, made for the first asker who takes it (a browser always
    /// does) and kept with it: compressing a page is as costly as serving it many times.
    gzipped: OnceLock<Option<Bytes>>,
}

impl Page {
    /// The answer to `req`: compressed if it takes gzip (compressed off the async workers the
    /// first time, a page being up to [`MAX_PAGE`]).
    async fn response(self: &Arc<Self>, req: &HttpRequest) -> HttpResponse {
        let gzipped = if takes_gzip(req) {
            if self.gzipped.get().is_none() {
                let page = self.clone();
                let made = web::block(move || gzip(&page.body)).await.ok().flatten();
                let _ = self.gzipped.set(made);
            }
            self.gzipped.get().cloned().flatten()
        } else {
            None
        };
        let mut res = HttpResponse::build(self.status).body(match &gzipped {
            Some(g) => g.clone(),
            None => self.body.clone(),
        });
        *res.headers_mut() = self.headers.clone();
        // Whether or not this one is compressed, the answer depends on what the asker takes.
        res.headers_mut()
            .insert(VARY, HeaderValue::from_static("accept-encoding"));
        if gzipped.is_some() {
            // Sent as it is: the compressing middleware leaves an encoded body alone.
            res.headers_mut()
                .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        res
    }
}

/// The asker takes a gzip-compressed answer (`Accept-Encoding`; a `q` of 0 refuses it).
fn takes_gzip(req: &HttpRequest) -> bool {
    req.headers().get_all(ACCEPT_ENCODING).any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',').any(|coding| {
                let mut parts = coding.split(';').map(str::trim);
                let gzip = parts.next().is_some_and(|c| c.eq_ignore_ascii_case("gzip"));
                let refused = parts.any(|p| {
                    p.strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                gzip && !refused
            })
        })
    })
}

/// `body` compressed with gzip; `None` for one too small to gain from it.
fn gzip(body: &[u8]) -> Option<Bytes> {
    use std::io::Write;
    if body.len() < 1024 {
        return None;
    }
    let mut out = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::default(),
    );
    out.write_all(body).ok()?;
    out.finish().ok().map(Bytes::from)
}

#[derive(Default)]
struct Store {
    pages: HashMap<(String, String), Arc<Page>>,
    bytes: usize,
}

/// A server's kept pages.
#[derive(Default)]
pub struct Pages(Mutex<Store>);

impl Pages {
    fn with<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn lookup(&self, key: &(String, String), version: Version) -> Option<Arc<Page>> {
        self.with(|s| {
            s.pages
                .get(key)
                .filter(|p| p.version == version && p.built.elapsed() < MAX_AGE)
                .cloned()
        })
    }

    fn keep(&self, key: (String, String), page: Arc<Page>) {
        self.with(|s| {
            let size = weight(&key, &page);
            if let Some(old) = s.pages.remove_entry(&key) {
                s.bytes -= weight(&old.0, &old.1);
            }
            if s.bytes + size > MAX_BYTES {
                // What can no longer be served goes first; if that is not enough, all of it.
                let version = page.version;
                s.pages
                    .retain(|_, p| p.version == version && p.built.elapsed() < MAX_AGE);
                s.bytes = s.pages.iter().map(|(k, p)| weight(k, p)).sum();
                if s.bytes + size > MAX_BYTES {
                    s.pages.clear();
                    s.bytes = 0;
                }
            }
            s.bytes += size;
            s.pages.insert(key, page);
        });
    }
}

/// What a kept page counts for against [`MAX_BYTES`]: its body and its key (the address is the
/// asker's to choose).
fn weight(key: &(String, String), page: &Page) -> usize {
    page.body.len() + key.0.len() + key.1.len()
}

/// What a request about a round was checked against when its session was read.
#[derive(Debug, Clone, Copy)]
struct Seen {
    round: i32,
    writes: u64,
    stamp: Option<i64>,
}

/// The routes whose answers [`kept`] keeps (the rollup JSON's, [`kept_json`] keeps: it reads
/// what they are checked against in its own turn).
const KEPT: [&str; 2] = [
    "/ky-bao-cao/{round}/don-vi/{unit}",
    "/ky-bao-cao/{round}/don-vi/{unit}/bieu-do/{chart}",
];

/// The round of a request for a page that may be kept (a `GET` of one of [`KEPT`]).
pub fn round_of(req: &HttpRequest) -> Option<i32> {
    if req.method() != Method::GET || !req.match_pattern().is_some_and(|p| KEPT.contains(&&*p)) {
        return None;
    }
    req.match_info().get("round")?.parse().ok()
}

/// Notes on the request what its round's pages are checked against, read with its session.
pub fn seen(req: &HttpRequest, round: i32, writes: u64, stamp: Option<i64>) {
    req.extensions_mut().insert(Seen {
        round,
        writes,
        stamp,
    });
}

/// The request asks for a page built anew (`Cache-Control: no-cache` or `Pragma: no-cache`).
fn wants_fresh(req: &HttpRequest) -> bool {
    [CACHE_CONTROL, PRAGMA].iter().any(|name| {
        req.headers().get_all(name).any(|v| {
            v.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|d| d.trim().eq_ignore_ascii_case("no-cache"))
            })
        })
    })
}

/// The page `build` makes about round `round` for `viewer` (see [`viewer`]), or the one kept
/// from an earlier request while it still shows what `build` would (see the module's notes).
/// Only a whole `200 OK` that sets no cookie is kept.
pub async fn kept<E, F>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    viewer: Option<String>,
    round: i32,
    build: F,
) -> Result<HttpResponse, E>
where
    E: From<AppError>,
    F: Future<Output = Result<HttpResponse, E>>,
{
    let Some(who) = viewer else {
        return build.await;
    };
    // Read before the page is built (a change committed meanwhile makes it older, never
    // newer): with the session, or now.
    let seen = req.extensions().get::<Seen>().copied();
    let (writes, stamp) = match seen.filter(|s| s.round == round) {
        Some(s) => (s.writes, s.stamp),
        None => {
            let writes = state.writes.get();
            let stamp = db(state, move |conn, _| rollup::live::round_stamp(conn, round)).await?;
            (writes, stamp)
        }
    };
    let Some(stamp) = stamp else {
        return build.await;
    };
    let version = (writes, stamp);
    let key = (who, req.uri().to_string());
    if !wants_fresh(req)
        && let Some(page) = state.pages.lookup(&key, version)
    {
        return Ok(page.response(req).await);
    }
    let started = Instant::now();
    let res = build.await?;
    Ok(keep_answer(state, req, key, version, started, res).await?)
}

/// Keeps `res`, built for `key` from `version` since `started`, if it may be served again
/// (a whole `200 OK` that sets no cookie), and answers with it.
async fn keep_answer(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    key: (String, String),
    version: Version,
    started: Instant,
    res: HttpResponse,
) -> Result<HttpResponse, AppError> {
    if res.status() != StatusCode::OK || res.headers().contains_key(SET_COOKIE) {
        return Ok(res);
    }
    let (head, body) = res.into_parts();
    if !matches!(body.size(), BodySize::Sized(n) if n as usize <= MAX_PAGE) {
        return Ok(head.set_body(body));
    }
    let bytes = actix_web::body::to_bytes(body)
        .await
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("a page did not read whole: {e}")))?;
    let page = Arc::new(Page {
        version,
        built: started,
        status: head.status(),
        headers: head.headers().clone(),
        body: bytes,
        gzipped: OnceLock::new(),
    });
    let res = page.response(req).await;
    state.pages.keep(key, page);
    Ok(res)
}

/// What one turn found for [`kept_json`].
enum Found {
    Kept(Arc<Page>),
    Built {
        body: Vec<u8>,
        /// Whom and what it was built for, when it may be kept.
        kept: Option<((String, String), Version)>,
    },
}

/// [`kept`] for the JSON `build` makes about a unit in a round (`…/{round}/…/{unit}`), in one
/// turn off the async workers: the session, what a kept answer is checked against, and, unless
/// a kept answer serves, the round, the unit, the build and its serialising (where a
/// [`CurrentUser`] and [`kept`] take one turn for the session and one for the build: on
/// PostgreSQL, the national rollup took 1.7-1.9 ms that way against 1.3-1.4 in one).
pub async fn kept_json<T, F>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    person: impl super::session::Person,
    share: Share,
    (round, code): (i32, String),
    build: F,
) -> Result<HttpResponse, AppError>
where
    T: serde::Serialize,
    F: FnOnce(&mut crate::db::Conn, &AppState, super::Scope) -> Result<T, AppError>
        + Send
        + 'static,
{
    let uri = req.uri().to_string();
    let fresh = wants_fresh(req);
    let started = Instant::now();
    let found = db(state, move |conn, st| {
        // Read before the answer is built (a change committed meanwhile makes it older, never
        // newer).
        let writes = st.writes.get();
        let user = person.person(conn, st)?;
        let stamp = rollup::live::round_stamp(conn, round)?;
        let kept = viewer(&user, share)
            .zip(stamp)
            .map(|(who, stamp)| ((who, uri), (writes, stamp)));
        if let Some((key, version)) = &kept
            && !fresh
            && let Some(page) = st.pages.lookup(key, *version)
        {
            return Ok(Found::Kept(page));
        }
        let scope = super::Scope::of(conn, st, user, (round, code))?;
        let value = build(conn, st, scope)?;
        let body = serde_json::to_vec(&value).map_err(anyhow::Error::new)?;
        Ok(Found::Built { body, kept })
    })
    .await?;
    match found {
        Found::Kept(page) => Ok(page.response(req).await),
        Found::Built { body, kept } => {
            let res = HttpResponse::Ok()
                .content_type(actix_web::http::header::ContentType::json())
                .body(body);
            match kept {
                Some((key, version)) => keep_answer(state, req, key, version, started, res).await,
                None => Ok(res),
            }
        }
    }
}
