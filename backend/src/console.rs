//! The operator's commands, as `main` hands them over: each prints what it did as Vietnamese
//! sentences and fails with a Vietnamese message. Only `serve` and `setup` create a database;
//! every other command refuses a database file that does not exist (a mistyped `--database`
//! must not leave an empty database behind).

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Context, anyhow, bail};

use crate::config::Settings;
use crate::domain::vn;
use crate::setup::{Admin, SetupError, Source};
use crate::startup::{Application, Prepared, prepare};
use crate::{db, reorg, service, setup as province_setup};

/// The database file of `settings`, which must exist.
fn existing(settings: &Settings) -> anyhow::Result<()> {
    let db::Target::Sqlite(path) = db::Target::of(&settings.database) else {
        // A PostgreSQL database is created by its administrator; a wrong name fails to connect.
        return Ok(());
    };
    if !Path::new(&path).is_file() {
        bail!(
            "không có tệp cơ sở dữ liệu «{path}». Kiểm tra lại --database (hoặc BAOCAO_DATABASE); lệnh này không tạo cơ sở dữ liệu mới, chỉ `baocao setup` và `baocao serve` mới tạo."
        );
    }
    Ok(())
}

fn said(prepared: &Prepared) -> String {
    let mut parts = Vec::new();
    if prepared.templates_added > 0 {
        parts.push(format!("{} mẫu báo cáo mới", prepared.templates_added));
    }
    if prepared.units_added > 0 {
        parts.push(format!("{} đơn vị", prepared.units_added));
    }
    if prepared.accounts_added > 0 {
        parts.push(format!("{} tài khoản", prepared.accounts_added));
    }
    if parts.is_empty() {
        "Cơ sở dữ liệu sẵn sàng.".into()
    } else {
        format!("Cơ sở dữ liệu sẵn sàng; đã nạp {}.", parts.join(", "))
    }
}

#[actix_web::main]
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let (app, prepared) = Application::build(&settings)?;
    let database = db::Target::of(&settings.database).shown();
    tracing::info!(%database, "database ready");
    println!("{}", said(&prepared));
    println!("baocao đang chạy tại http://{}", settings.bind);
    if settings.demo {
        println!(
            "Dữ liệu mẫu (--demo): mỗi đơn vị có một tài khoản, tên đăng nhập là mã đơn vị, mật khẩu \"demo\".\n  Tỉnh: 34   Huyện Quỳnh Phụ: 338   Xã An Khê: 12475   Quản trị: admin"
        );
    }
    if settings.demo_national {
        println!(
            "Dữ liệu mẫu toàn quốc (--demo-national): tên đăng nhập là mã đơn vị, mật khẩu \"demo\"; có tài khoản cho Trung ương, mọi tỉnh và huyện, các xã của Thái Bình và xã đầu tiên của mỗi huyện.\n  Trung ương: VN   Tỉnh Thái Bình: 34   Thành phố Hà Nội: 01   Huyện Quỳnh Phụ: 338   Xã An Khê: 12475   Quản trị: admin"
        );
    }
    app.run().await?;
    Ok(())
}

/// The first administrator's password: from the file, else the environment, else typed twice
/// at the terminal without echo. Never a default.
fn admin_password(file: Option<&Path>) -> Result<String, SetupError> {
    if let Some(file) = file {
        let text = std::fs::read_to_string(file).map_err(|e| {
            SetupError(format!(
                "Không đọc được tệp mật khẩu «{}»: {e}.",
                file.display()
            ))
        })?;
        return Ok(text.lines().next().unwrap_or_default().to_owned());
    }
    if let Ok(password) = std::env::var("BAOCAO_ADMIN_PASSWORD") {
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        return Err(SetupError(
            "Cần mật khẩu cho tài khoản quản trị: gõ tại cửa sổ lệnh, hoặc cho trong tệp (--admin-password-file) hay biến môi trường BAOCAO_ADMIN_PASSWORD.".into(),
        ));
    }
    let typed = rpassword::prompt_password("Mật khẩu cho tài khoản quản trị: ")
        .map_err(|e| SetupError(format!("Không đọc được mật khẩu: {e}.")))?;
    let again = rpassword::prompt_password("Gõ lại mật khẩu: ")
        .map_err(|e| SetupError(format!("Không đọc được mật khẩu: {e}.")))?;
    if typed != again {
        return Err(SetupError(
            "Hai lần gõ mật khẩu không giống nhau; không có gì được tạo. Xin chạy lại.".into(),
        ));
    }
    Ok(typed)
}

pub fn setup(
    settings: Settings,
    province: Option<String>,
    units: Option<std::path::PathBuf>,
    country: bool,
    admin_username: String,
    admin_name: String,
    password_file: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let file_text = match &units {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("không đọc được tệp đơn vị «{}»", path.display()))?,
        ),
        None => None,
    };
    let source = match (&province, &file_text) {
        _ if country => Source::Country,
        (Some(code), _) => Source::Province(code),
        (None, Some(text)) => Source::File(text),
        (None, None) => bail!("cần --province MÃ_TỈNH, --units TỆP.CSV hoặc --country"),
    };
    let (state, prepared) = prepare(&settings)?;
    let mut conn = state.pool.get()?;
    let admin = Admin {
        username: admin_username,
        full_name: admin_name,
    };
    let summary = province_setup::setup(&mut conn, &source, &admin, || {
        admin_password(password_file.as_deref())
    })
    .map_err(|e| anyhow!("{e}"))?;
    if prepared.templates_added > 0 {
        println!("Đã nạp {} mẫu báo cáo.", prepared.templates_added);
    }
    let database = db::Target::of(&settings.database).shown();
    println!(
        "{} (mã {}) trong «{database}»: {} đơn vị, trong đó {} đơn vị mới nạp{}.",
        summary.root.name,
        summary.root.code,
        vn::int(summary.units_total as i64),
        vn::int(summary.units_added as i64),
        if summary.units_added == summary.units_total {
            ""
        } else {
            ", các đơn vị khác đã có từ trước"
        }
    );
    match summary.admin_created {
        Some(username) => println!(
            "Đã tạo tài khoản quản trị «{username}». Khởi động máy chủ bằng `baocao serve --database {database}`, đăng nhập bằng tài khoản này để lập tài khoản cho các Ban Tuyên giáo."
        ),
        None => println!(
            "Đã có tài khoản quản trị ({}); không tạo thêm, mật khẩu giữ nguyên.",
            summary.admin_existing.join(", ")
        ),
    }
    Ok(())
}

pub fn rounds(settings: Settings) -> anyhow::Result<()> {
    existing(&settings)?;
    let pool = db::connect(&settings.database)?;
    let mut conn = pool.get()?;
    let list =
        service::rounds::catalogue(&mut conn).map_err(|e| anyhow!("{}", e.user_message()))?;
    if list.is_empty() {
        println!("Chưa có kỳ báo cáo nào.");
    }
    for r in list {
        println!(
            "Kỳ số {}: {} ({}), do {} mở, {}.",
            r.id,
            r.title,
            r.period_label,
            r.owner,
            if r.open { "đang mở" } else { "đã đóng" }
        );
    }
    Ok(())
}

pub fn export(
    settings: Settings,
    round: i32,
    unit: &str,
    out: &Path,
    provisional: bool,
) -> anyhow::Result<()> {
    existing(&settings)?;
    let (state, _) = prepare(&settings)?;
    let mut conn = state.pool.get()?;
    let len = service::export::to_file(&mut conn, &state.catalog, round, unit, provisional, out)
        .map_err(|e| anyhow!("{}", e.user_message()))?;
    println!(
        "Đã ghi {} ({} byte).",
        out.display(),
        vn::int(i64::try_from(len).unwrap_or(i64::MAX))
    );
    Ok(())
}

pub fn reorganise(
    settings: Settings,
    file: &Path,
    on: chrono::NaiveDate,
    into: String,
    into_name: String,
) -> anyhow::Result<()> {
    existing(&settings)?;
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("không đọc được tệp «{}»", file.display()))?;
    let pool = db::connect(&settings.database)?;
    let mut conn = pool.get()?;
    let summary = reorg::reorganise(
        &mut conn,
        &text,
        on,
        &reorg::Placement {
            code: into,
            name: into_name,
        },
    )
    .map_err(|e| anyhow!("{e}"))?;
    println!(
        "Đã sắp xếp từ ngày {}: {} đơn vị mới, {} đơn vị kết thúc, {} tài khoản chuyển sang đơn vị mới, {} kỳ báo cáo đang mở chuyển sang đơn vị kế tục, {} thành viên Tổ được chuyển theo.",
        vn::date_short(on),
        summary.new_units,
        summary.closed_units,
        summary.accounts_moved,
        summary.rounds_moved,
        summary.members_carried
    );
    Ok(())
}

pub fn backup(settings: Settings, to: &Path) -> anyhow::Result<()> {
    existing(&settings)?;
    let pool = db::connect(&settings.database)?;
    let mut conn = pool.get()?;
    let taken = crate::backup::backup_to(&mut conn, to)?;
    println!(
        "Đã sao lưu cơ sở dữ liệu vào «{}» ({} byte), đã kiểm tra toàn vẹn.",
        taken.path.display(),
        vn::int(i64::try_from(taken.bytes).unwrap_or(i64::MAX))
    );
    Ok(())
}

pub fn restore(settings: Settings, from: &Path, force: bool) -> anyhow::Result<()> {
    let db::Target::Sqlite(to) = db::Target::of(&settings.database) else {
        bail!(
            "cơ sở dữ liệu là PostgreSQL: khôi phục bằng công cụ của PostgreSQL (pg_restore); lệnh này chỉ khôi phục tệp SQLite"
        );
    };
    let to = Path::new(&to);
    let kept = crate::backup::restore(from, to, force)?;
    println!(
        "Đã khôi phục «{}» từ bản sao lưu «{}» (đã kiểm tra toàn vẹn).",
        to.display(),
        from.display()
    );
    if let Some(kept) = kept {
        println!(
            "Cơ sở dữ liệu trước đó được giữ lại tại «{}».",
            kept.display()
        );
    }
    Ok(())
}

/// The rounds a rollups command covers: one, or all.
fn rounds_of(conn: &mut db::Conn, round: Option<i32>) -> anyhow::Result<Vec<i32>> {
    use diesel::prelude::*;
    let all: Vec<i32> = db::schema::rounds::table
        .select(db::schema::rounds::id)
        .order(db::schema::rounds::id)
        .load(conn)?;
    match round {
        Some(r) if !all.contains(&r) => bail!("không có kỳ báo cáo số {r} (xem `baocao rounds`)."),
        Some(r) => Ok(vec![r]),
        None => Ok(all),
    }
}

/// Compares every stored live consolidation with one computed from the reports; fails if any
/// differs.
pub fn rollups_check(settings: Settings, round: Option<i32>) -> anyhow::Result<()> {
    existing(&settings)?;
    let pool = db::connect(&settings.database)?;
    let mut conn = pool.get()?;
    let mut wrong = 0;
    for id in rounds_of(&mut conn, round)? {
        let ctx = service::rollup::live::round_ctx(&mut conn, id)
            .map_err(|e| anyhow!("{}", e.user_message()))?;
        // One snapshot of the file for the reports and the states, while a server may write.
        let found = {
            db::snapshot_transaction(&mut conn, |conn| service::rollup::live::check(conn, &ctx))
                .map_err(|e| anyhow!("{}", e.user_message()))?
        };
        if found.is_empty() {
            println!("Kỳ số {id} ({}): số liệu tổng hợp khớp.", ctx.round.title);
        }
        for m in &found {
            let what = match m.what {
                "accepted" => "số liệu đã tiếp nhận khác",
                "provisional" => "số liệu tạm tính khác",
                "completeness" => "số đơn vị đã nộp khác",
                "missing" => "thiếu số liệu tổng hợp",
                _ => "có số liệu tổng hợp thừa",
            };
            println!("Kỳ số {id}: {} ({}): {what}.", m.unit_name, m.unit_code);
        }
        wrong += found.len();
    }
    if wrong > 0 {
        bail!(
            "{wrong} chỗ không khớp. Chạy `baocao rollups rebuild` để tổng hợp lại từ các báo cáo."
        );
    }
    Ok(())
}

/// Consolidates rounds again from their reports and stores the result.
pub fn rollups_rebuild(settings: Settings, round: Option<i32>) -> anyhow::Result<()> {
    existing(&settings)?;
    let pool = db::connect(&settings.database)?;
    let mut conn = pool.get()?;
    for id in rounds_of(&mut conn, round)? {
        service::write_transaction(&mut conn, |conn| {
            service::rollup::live::rebuild_round(conn, id)
        })
        .map_err(|e| anyhow!("{}", e.user_message()))?;
        println!("Kỳ số {id}: đã tổng hợp lại.");
    }
    Ok(())
}

/// Moves a whole database to another, empty one, and says what was moved and checked.
pub fn migrate(from: &str, to: &str) -> anyhow::Result<()> {
    let (source, target) = (db::Target::of(from), db::Target::of(to));
    if source == target {
        bail!(
            "nguồn và đích là cùng một cơ sở dữ liệu ({}).",
            source.shown()
        );
    }
    if let db::Target::Sqlite(path) = &source
        && !Path::new(path).is_file()
    {
        bail!("không có tệp cơ sở dữ liệu nguồn «{path}». Kiểm tra lại --from.");
    }
    let from_pool = db::connect(from)?;
    let to_pool = db::connect(to)?;
    let (mut a, mut b) = (from_pool.get()?, to_pool.get()?);
    let moved = crate::transfer::transfer(&mut a, &mut b).map_err(|e| anyhow!("{e}"))?;
    let rows: i64 = moved.tables.iter().map(|(_, n)| n).sum();
    println!(
        "Đã chuyển «{}» sang «{}»: {} dòng trong {} bảng, số dòng từng bảng khớp.",
        source.shown(),
        target.shown(),
        vn::int(rows),
        moved.tables.len()
    );
    for (table, n) in &moved.tables {
        println!("  {table}: {}", vn::int(*n));
    }
    println!(
        "Số liệu tổng hợp của {} kỳ báo cáo ({} đơn vị có đơn vị cấp dưới) tính lại từ các báo cáo ở hai bên: khớp.",
        moved.rounds,
        vn::int(moved.consolidations as i64)
    );
    Ok(())
}
