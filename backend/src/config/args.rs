//! The flags the commands share. A flag left out falls back to its environment variable (read
//! here, by clap), then to the settings file, then to the default.

use std::path::PathBuf;

use super::{Settings, file};

/// `--config` and `--database`, for every command that opens the database.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// The settings file (TOML): see the README, "Going live".
    #[arg(long, env = "BAOCAO_CONFIG")]
    pub config: Option<PathBuf>,
    /// The database: a SQLite file (a path, or sqlite://path), or a PostgreSQL database
    /// (postgres://user:password@host:port/name) [default: baocao.db].
    #[arg(long, env = "BAOCAO_DATABASE")]
    pub database: Option<String>,
}

/// The database and what is loaded into it at start.
#[derive(Debug, Clone, clap::Args)]
pub struct DataArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Load the demo data: Thái Bình's units, an account per unit (password "demo"), an open round with reports.
    #[arg(long, conflicts_with = "demo_national")]
    pub demo: bool,
    /// Load the national demo instead (on a new database): the whole country under the central
    /// board (account VN), accounts for every province and district board and a sample of
    /// communes, and a round with every commune's report.
    #[arg(long)]
    pub demo_national: bool,
    /// Directory of report templates (default: report-schemas/schemas, else the built-in ones).
    #[arg(long, env = "BAOCAO_SCHEMAS")]
    pub schemas: Option<PathBuf>,
}

/// Everything `serve` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0 picks a free one) [default: 127.0.0.1:8080].
    #[arg(long, env = "BAOCAO_BIND")]
    pub bind: Option<String>,
    /// The address people reach the server at, e.g. https://baocao.tinhuy.vn (behind a reverse proxy).
    #[arg(long, env = "BAOCAO_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The folder the server puts its daily backups in.
    #[arg(long, env = "BAOCAO_BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataArgs,
}

impl DatabaseArgs {
    /// The settings: defaults, then the file, then the environment, then these flags.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let mut settings = Settings::default();
        if let Some(path) = &self.config {
            file::apply_file(&mut settings, path)?;
        }
        file::apply_env(&mut settings)?;
        if let Some(database) = &self.database {
            settings.database = database.clone();
        }
        Ok(settings)
    }
}

impl DataArgs {
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let mut settings = self.db.settings()?;
        settings.demo = self.demo;
        settings.demo_national = self.demo_national;
        if let Some(schemas) = &self.schemas {
            settings.schemas = Some(schemas.clone());
        }
        Ok(settings)
    }
}

impl ServeArgs {
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let mut settings = self.data.settings()?;
        if let Some(bind) = &self.bind {
            settings.bind = bind.clone();
        }
        if let Some(url) = &self.public_url {
            settings.public_url = Some(url.clone());
        }
        if let Some(dir) = &self.backup_dir {
            settings.backups.dir = Some(dir.clone());
        }
        file::check(&settings)?;
        Ok(settings)
    }
}
