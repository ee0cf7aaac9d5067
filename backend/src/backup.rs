//! Backups: a consistent copy of the live database, taken while the server writes (SQLite's
//! `VACUUM INTO`, which reads one snapshot; a plain copy of the file would miss what is still in
//! the write-ahead log), checked before it is called a backup; restoring one, checked first;
//! and the server's own schedule of them, whose last result the administrator sees.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::sqlite::SqliteConnection;

use crate::config::Backups;
use crate::db::{Conn, DbPool};
use crate::domain::vn;

/// A backup taken.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Taken {
    pub path: PathBuf,
    pub bytes: u64,
    pub at: NaiveDateTime,
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

/// Checks a database file: SQLite's own integrity check says "ok", and it is a baocao database.
pub fn check_file(path: &Path) -> anyhow::Result<()> {
    if !path.is_file() {
        bail!("không có tệp «{}»", path.display());
    }
    let mut conn = SqliteConnection::establish(&format!("file:{}?mode=ro", path.display()))
        .or_else(|_| SqliteConnection::establish(&path.to_string_lossy()))
        .map(Conn::Sqlite)
        .with_context(|| format!("«{}» không phải tệp cơ sở dữ liệu", path.display()))?;
    let lines: Vec<Line> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .with_context(|| format!("«{}» không phải tệp cơ sở dữ liệu SQLite", path.display()))?;
    let said: Vec<&str> = lines.iter().map(|l| l.integrity_check.as_str()).collect();
    if said != ["ok"] {
        bail!(
            "tệp «{}» bị hỏng (kiểm tra toàn vẹn: {})",
            path.display(),
            said.join("; ")
        );
    }
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let tables: Count = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('units', 'accounts', 'reports', '__diesel_schema_migrations')",
    )
    .get_result(&mut conn)?;
    if tables.n != 4 {
        bail!(
            "tệp «{}» không phải cơ sở dữ liệu của baocao",
            path.display()
        );
    }
    Ok(())
}

fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(dir) = std::fs::File::open(dir)
    {
        let _ = dir.sync_all();
    }
}

fn part_of(path: &Path) -> PathBuf {
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    PathBuf::from(part)
}

/// Copies the database `conn` is open on to `to`, consistently, while others may write:
/// through a neighbouring file, made durable and checked, then renamed.
pub fn backup_to(conn: &mut Conn, to: &Path) -> anyhow::Result<Taken> {
    if let Conn::Postgres(_) = conn {
        bail!(
            "cơ sở dữ liệu là PostgreSQL: sao lưu bằng công cụ của PostgreSQL (pg_dump, pg_basebackup hoặc bản sao dự phòng, xem README); lệnh này chỉ sao lưu tệp SQLite"
        );
    }
    if to.exists() {
        bail!(
            "đã có tệp «{}»; chọn tên khác cho bản sao lưu",
            to.display()
        );
    }
    let part = part_of(to);
    let _ = std::fs::remove_file(&part);
    let result = (|| -> anyhow::Result<u64> {
        diesel::sql_query("VACUUM INTO ?")
            .bind::<Text, _>(part.to_string_lossy())
            .execute(conn)
            .with_context(|| format!("không ghi được bản sao lưu vào «{}»", part.display()))?;
        let file = std::fs::File::open(&part)?;
        file.sync_all()?;
        check_file(&part)?;
        Ok(file.metadata()?.len())
    })();
    match result {
        Ok(bytes) => {
            std::fs::rename(&part, to)?;
            sync_dir(to);
            Ok(Taken {
                path: to.to_owned(),
                bytes,
                at: vn::now_utc(),
            })
        }
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e)
        }
    }
}

/// Puts the backup `from` in place of the database at `to`, after checking it. An existing
/// database is replaced only with `force`, and is then kept beside it under another name.
/// Returns that name, if any. The server must not be running on `to`.
pub fn restore(from: &Path, to: &Path, force: bool) -> anyhow::Result<Option<PathBuf>> {
    check_file(from)?;
    let kept = if to.exists() {
        if !force {
            bail!(
                "đã có cơ sở dữ liệu «{}»; để thay bằng bản sao lưu, dừng máy chủ rồi chạy lại với --force (cơ sở dữ liệu hiện tại được giữ lại bên cạnh)",
                to.display()
            );
        }
        let stamp = vn::local(vn::now_utc()).format("%Y%m%d-%H%M%S");
        let mut name = to.as_os_str().to_owned();
        name.push(format!(".truoc-khoi-phuc-{stamp}"));
        let kept = PathBuf::from(name);
        // Whatever the old database had in its write-ahead log goes into the copy kept aside.
        {
            let mut old = SqliteConnection::establish(&to.to_string_lossy())?;
            old.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")?;
        }
        std::fs::copy(to, &kept)?;
        Some(kept)
    } else {
        None
    };
    let part = part_of(to);
    std::fs::copy(from, &part).with_context(|| format!("không ghi được «{}»", part.display()))?;
    std::fs::File::open(&part)?.sync_all()?;
    // A log left by the database being replaced must not be replayed over the backup.
    for suffix in ["-wal", "-shm"] {
        let mut side = to.as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    std::fs::rename(&part, to)?;
    sync_dir(to);
    Ok(kept)
}

/// What the server's own backups have done lately, for the administrator.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Status {
    pub dir: Option<PathBuf>,
    pub every_hours: u64,
    pub keep: usize,
    pub last_ok: Option<Taken>,
    /// The last failure, if it came after the last success.
    pub last_error: Option<(NaiveDateTime, String)>,
}

pub type SharedStatus = Arc<Mutex<Status>>;

/// The backups in `dir`, newest first.
pub fn list(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("baocao-") && n.ends_with(".db"))
        })
        .collect();
    found.sort();
    found.reverse();
    found
}

/// Takes one scheduled backup into `dir` and removes the oldest beyond `keep`.
pub fn scheduled(conn: &mut Conn, dir: &Path, keep: usize) -> anyhow::Result<Taken> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("không tạo được thư mục sao lưu «{}»", dir.display()))?;
    let stamp = vn::local(vn::now_utc()).format("%Y%m%d-%H%M%S");
    let taken = backup_to(conn, &dir.join(format!("baocao-{stamp}.db")))?;
    for old in list(dir).into_iter().skip(keep) {
        let _ = std::fs::remove_file(old);
    }
    Ok(taken)
}

/// Starts the server's schedule: a backup now, then every `every_hours`, on a thread of its
/// own, each result kept in `status` (and logged).
pub fn start_schedule(pool: DbPool, settings: &Backups, status: SharedStatus) {
    let Some(dir) = settings.dir.clone() else {
        return;
    };
    let (every, keep) = (settings.every_hours, settings.keep);
    if let Ok(mut s) = status.lock() {
        s.dir = Some(dir.clone());
        s.every_hours = every;
        s.keep = keep;
    }
    std::thread::spawn(move || {
        loop {
            let result = pool
                .get()
                .map_err(anyhow::Error::from)
                .and_then(|mut conn| scheduled(&mut conn, &dir, keep));
            let mut s = status.lock().unwrap_or_else(|e| e.into_inner());
            match result {
                Ok(taken) => {
                    tracing::info!(path = %taken.path.display(), bytes = taken.bytes, "backup taken");
                    s.last_ok = Some(taken);
                    s.last_error = None;
                }
                Err(e) => {
                    tracing::error!(error = %e, "backup failed");
                    s.last_error = Some((vn::now_utc(), format!("{e:#}")));
                }
            }
            drop(s);
            std::thread::sleep(Duration::from_secs(every.saturating_mul(3600)));
        }
    });
}
