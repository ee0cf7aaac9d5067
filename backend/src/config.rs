//! Settings in one place: where the server listens, the database, the folder of report
//! templates, and whether to load the demo data. Each is read from its flag, else from its
//! environment variable (`BAOCAO_BIND`, `BAOCAO_DATABASE`, `BAOCAO_SCHEMAS`, `BAOCAO_PUBLIC_URL`),
//! else its default;
//! the commands share the flags below, so a setting is spelled the same everywhere. The upload
//! limits are fixed defaults for now.

use std::path::PathBuf;

/// What the application is built from.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The address the server listens on, e.g. `127.0.0.1:8080` (port 0 picks a free one).
    pub bind: String,
    /// The database: a SQLite file.
    pub database: String,
    /// Load the demo accounts, round and reports (idempotent).
    pub demo: bool,
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
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: DEFAULT_BIND.into(),
            database: DEFAULT_DATABASE.into(),
            demo: false,
            schemas: None,
            limits: Limits::default(),
            sessions: Sessions::default(),
            login: LoginLimits::default(),
            public_url: None,
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

const DEFAULT_BIND: &str = "127.0.0.1:8080";
const DEFAULT_DATABASE: &str = "baocao.db";

/// `--database`, for every command that opens the database.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// The SQLite database file.
    #[arg(long, default_value = DEFAULT_DATABASE, env = "BAOCAO_DATABASE")]
    pub database: String,
}

/// The database and what is loaded into it at start.
#[derive(Debug, Clone, clap::Args)]
pub struct DataArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Load the demo data: Thái Bình's units, an account per unit (password "demo"), an open round with reports.
    #[arg(long)]
    pub demo: bool,
    /// Directory of report templates (default: report-schemas/schemas, else the built-in ones).
    #[arg(long, env = "BAOCAO_SCHEMAS")]
    pub schemas: Option<PathBuf>,
}

/// Everything `serve` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0 picks a free one).
    #[arg(long, default_value = DEFAULT_BIND, env = "BAOCAO_BIND")]
    pub bind: String,
    /// The address people reach the server at, e.g. https://baocao.tinhuy.vn (behind a reverse proxy).
    #[arg(long, env = "BAOCAO_PUBLIC_URL")]
    pub public_url: Option<String>,
    #[command(flatten)]
    pub data: DataArgs,
}

impl From<DatabaseArgs> for Settings {
    fn from(args: DatabaseArgs) -> Self {
        Settings {
            database: args.database,
            ..Settings::default()
        }
    }
}

impl From<DataArgs> for Settings {
    fn from(args: DataArgs) -> Self {
        Settings {
            demo: args.demo,
            schemas: args.schemas,
            ..Settings::from(args.db)
        }
    }
}

impl From<ServeArgs> for Settings {
    fn from(args: ServeArgs) -> Self {
        Settings {
            bind: args.bind,
            public_url: args.public_url,
            ..Settings::from(args.data)
        }
    }
}
