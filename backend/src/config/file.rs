//! The settings file (TOML) and the environment variables that override it. Every key is
//! optional; an unknown key is an error naming it, so a typo is not silently ignored.
//!
//! ```toml
//! bind = "127.0.0.1:8080"
//! database = "/var/lib/baocao/baocao.db"
//! public_url = "https://baocao.tinhuy.vn"
//! schemas = "/opt/baocao/report-schemas/schemas"
//!
//! [sessions]
//! hours = 12            # from login to the absolute end
//! idle_minutes = 60     # unused this long, a session ends
//!
//! [limits]
//! form_mb = 5           # one uploaded workbook
//! upload_mb = 32        # one upload request (a bulk archive)
//!
//! [backups]
//! dir = "/var/backups/baocao"
//! every_hours = 24
//! keep = 14
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use super::Settings;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsFile {
    bind: Option<String>,
    database: Option<String>,
    public_url: Option<String>,
    schemas: Option<PathBuf>,
    #[serde(default)]
    sessions: SessionsFile,
    #[serde(default)]
    limits: LimitsFile,
    #[serde(default)]
    backups: BackupsFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionsFile {
    hours: Option<i64>,
    idle_minutes: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    form_mb: Option<usize>,
    upload_mb: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BackupsFile {
    dir: Option<PathBuf>,
    every_hours: Option<u64>,
    keep: Option<usize>,
}

/// Overlays the settings file at `path` on `settings`.
pub fn apply_file(settings: &mut Settings, path: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("không đọc được tệp cấu hình «{}»", path.display()))?;
    let file: SettingsFile = toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "tệp cấu hình «{}» không hợp lệ: {}",
            path.display(),
            e.message()
        )
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    // Relative paths in the file are read from the file's own folder.
    let beside = |p: PathBuf| if p.is_relative() { dir.join(p) } else { p };
    if let Some(v) = file.bind {
        settings.bind = v;
    }
    if let Some(v) = file.database {
        // A relative file path is the file's folder's; a PostgreSQL URL is no path at all.
        settings.database = match crate::db::Target::of(&v) {
            crate::db::Target::Sqlite(path) if Path::new(&path).is_relative() => {
                dir.join(path).to_string_lossy().into_owned()
            }
            _ => v,
        };
    }
    if let Some(v) = file.public_url {
        settings.public_url = Some(v);
    }
    if let Some(v) = file.schemas {
        settings.schemas = Some(beside(v));
    }
    if let Some(v) = file.sessions.hours {
        settings.sessions.hours = v;
    }
    if let Some(v) = file.sessions.idle_minutes {
        settings.sessions.idle_minutes = v;
    }
    if let Some(v) = file.limits.form_mb {
        settings.limits.form_bytes = v << 20;
    }
    if let Some(v) = file.limits.upload_mb {
        settings.limits.upload_bytes = v << 20;
    }
    if let Some(v) = file.backups.dir {
        settings.backups.dir = Some(beside(v));
    }
    if let Some(v) = file.backups.every_hours {
        settings.backups.every_hours = v;
    }
    if let Some(v) = file.backups.keep {
        settings.backups.keep = v;
    }
    Ok(())
}

fn number<T: std::str::FromStr>(name: &str) -> anyhow::Result<Option<T>> {
    match std::env::var(name) {
        Ok(text) => match text.trim().parse() {
            Ok(n) => Ok(Some(n)),
            Err(_) => bail!("biến môi trường {name}=«{text}» phải là một số nguyên dương"),
        },
        Err(_) => Ok(None),
    }
}

/// Overlays the environment variables of the settings that have no flag. (Those with a flag
/// are read by the flag's parser, `BAOCAO_BIND` and the like.)
pub fn apply_env(settings: &mut Settings) -> anyhow::Result<()> {
    if let Some(v) = number("BAOCAO_SESSION_HOURS")? {
        settings.sessions.hours = v;
    }
    if let Some(v) = number("BAOCAO_SESSION_IDLE_MINUTES")? {
        settings.sessions.idle_minutes = v;
    }
    if let Some(v) = number::<usize>("BAOCAO_FORM_MB")? {
        settings.limits.form_bytes = v << 20;
    }
    if let Some(v) = number::<usize>("BAOCAO_UPLOAD_MB")? {
        settings.limits.upload_bytes = v << 20;
    }
    if let Some(v) = number("BAOCAO_BACKUP_EVERY_HOURS")? {
        settings.backups.every_hours = v;
    }
    if let Some(v) = number("BAOCAO_BACKUP_KEEP")? {
        settings.backups.keep = v;
    }
    Ok(())
}

/// Refuses settings that cannot work, naming them.
pub fn check(settings: &Settings) -> anyhow::Result<()> {
    if settings.sessions.hours < 1 || settings.sessions.idle_minutes < 1 {
        bail!("thời hạn phiên đăng nhập (sessions.hours, sessions.idle_minutes) phải từ 1 trở lên");
    }
    if settings.limits.form_bytes == 0 || settings.limits.upload_bytes < settings.limits.form_bytes
    {
        bail!("giới hạn tải lên: form_mb phải từ 1 trở lên và upload_mb không nhỏ hơn form_mb");
    }
    if settings.backups.every_hours == 0 || settings.backups.keep == 0 {
        bail!("sao lưu: every_hours và keep phải từ 1 trở lên");
    }
    settings.public_origin()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_database_file_is_the_settings_files_folders_and_a_url_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("baocao.toml");
        for (written, read) in [
            (
                "du-lieu/baocao.db",
                dir.path()
                    .join("du-lieu/baocao.db")
                    .to_string_lossy()
                    .into_owned(),
            ),
            (
                "/var/lib/baocao/baocao.db",
                "/var/lib/baocao/baocao.db".to_owned(),
            ),
            (
                "postgres://baocao:bi-mat@db.tinhuy.vn:5432/baocao",
                "postgres://baocao:bi-mat@db.tinhuy.vn:5432/baocao".to_owned(),
            ),
        ] {
            std::fs::write(&file, format!("database = \"{written}\"\n")).unwrap();
            let mut settings = Settings::default();
            apply_file(&mut settings, &file).unwrap();
            assert_eq!(settings.database, read, "{written}");
        }
    }
}
