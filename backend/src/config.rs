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
            public_url: None,
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
