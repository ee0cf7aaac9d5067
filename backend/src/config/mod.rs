//! Settings in one place: where the server listens, the database, the public address, the
//! folder of report templates, backups, session lifetimes, upload limits. Each is read, from
//! weakest to strongest, from its default, the settings file (`--config FILE`, TOML, see
//! [`file`]), its environment variable (`BAOCAO_…`), and its flag ([`args`]); the commands
//! share the flags, so a setting is spelled the same everywhere.

pub mod args;
pub mod file;

use std::path::PathBuf;

pub use args::{DataArgs, DatabaseArgs, ServeArgs};

/// What the application is built from.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The address the server listens on, e.g. `127.0.0.1:8080` (port 0 picks a free one).
    pub bind: String,
    /// The database: a SQLite file.
    pub database: String,
    /// Load the demo accounts, round and reports (idempotent).
    pub demo: bool,
    /// Load the national demo: the whole country, its boards' accounts, a round (idempotent).
    pub demo_national: bool,
    /// Where the template files are; `None` uses `report-schemas/schemas` when present,
    /// else the templates built into the binary.
    pub schemas: Option<PathBuf>,
    /// How much an upload may bring.
    pub limits: Limits,
    /// How long a session lasts, in use and unused.
    pub sessions: Sessions,
    /// How wrong passwords are slowed down and locked out.
    pub login: LoginLimits,
    /// The address people reach the server at, e.g. `https://baocao.tinhuy.vn` behind a reverse
    /// proxy. With `https`, the session cookie is sent over HTTPS only and browsers are told to
    /// use nothing else (HSTS). Requests that change something must come from this origin.
    pub public_url: Option<String>,
    /// The server's own backups.
    pub backups: Backups,
    /// How many requests work on the database at once, and wait for it.
    pub gate: crate::gate::GateLimits,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: DEFAULT_BIND.into(),
            database: DEFAULT_DATABASE.into(),
            demo: false,
            demo_national: false,
            schemas: None,
            limits: Limits::default(),
            sessions: Sessions::default(),
            login: LoginLimits::default(),
            public_url: None,
            backups: Backups::default(),
            gate: crate::gate::GateLimits::default(),
        }
    }
}

/// The backups the server takes itself (`baocao backup` takes one by hand): into a folder, at
/// start and then every few hours, keeping the newest few.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backups {
    /// Where; `None`: the server takes none.
    pub dir: Option<PathBuf>,
    pub every_hours: u64,
    /// How many are kept; older ones are removed.
    pub keep: usize,
}

impl Default for Backups {
    fn default() -> Self {
        Backups {
            dir: None,
            every_hours: 24,
            keep: 14,
        }
    }
}

/// How long a session lasts: it ends at its absolute end, or sooner after a while unused (a
/// shared office PC, a phone left on a desk), and on logout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sessions {
    /// From login to the absolute end.
    pub hours: i64,
    /// Unused this long, it ends.
    pub idle_minutes: i64,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions {
            hours: 12,
            idle_minutes: 60,
        }
    }
}

/// How wrong passwords are met. A client address that keeps getting one account's password
/// wrong waits longer after each failure, then is locked out of that account for a while; an
/// address failing on many accounts is locked out altogether; an account failed from many
/// addresses is locked for a while too. Locks are by account and address together first, so a
/// stranger cannot lock a real user out from elsewhere, except by a flood, and not for long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failures of one address on one account before each further try must wait (1 s, 2 s, 4 s...).
    pub free_failures: u32,
    /// Failures of one address on one account before that pair is locked.
    pub pair_failures: u32,
    /// Failures of one address (any accounts) before it is locked.
    pub address_failures: u32,
    /// Failures on one account (any addresses) before it is locked.
    pub account_failures: u32,
    /// How long a lock lasts, and how long failures are remembered.
    pub lock_seconds: u64,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            free_failures: 3,
            pair_failures: 8,
            address_failures: 30,
            account_failures: 50,
            lock_seconds: 15 * 60,
        }
    }
}

/// How much an upload may bring, checked before anything is allocated from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// One workbook: an uploaded form, or one file of a bulk upload. A filled form is a few
    /// tens of kilobytes; LibreOffice's and old .xls files are larger, never megabytes.
    pub form_bytes: usize,
    /// One upload request: a bulk upload's archive or files, and what an archive inflates to.
    /// A district's 35 forms zipped are about 0.5 MB, a province's 242 about 3.5 MB.
    pub upload_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            form_bytes: 5 << 20,
            upload_bytes: 32 << 20,
        }
    }
}

impl Settings {
    /// The origin (`scheme://host[:port]`) of the public URL, checked to be one.
    pub fn public_origin(&self) -> anyhow::Result<Option<String>> {
        let Some(url) = self
            .public_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        else {
            return Ok(None);
        };
        let (scheme, rest) = url
            .split_once("://")
            .filter(|(scheme, _)| matches!(*scheme, "http" | "https"))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "--public-url phải có dạng https://tên-miền (hoặc http://…): «{url}»"
                )
            })?;
        let host = rest.split('/').next().unwrap_or_default();
        if host.is_empty() {
            anyhow::bail!("--public-url thiếu tên máy: «{url}»");
        }
        Ok(Some(format!("{scheme}://{}", host.to_ascii_lowercase())))
    }

    /// The folder the templates are read from, if any.
    pub fn schemas_dir(&self) -> Option<PathBuf> {
        self.schemas.clone().or_else(|| {
            let default = PathBuf::from("report-schemas/schemas");
            default.is_dir().then_some(default)
        })
    }
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE: &str = "baocao.db";
