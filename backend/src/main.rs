//! The `baocao` command: the web server and the operator's tools.

use std::path::PathBuf;

use anyhow::Context;
use baocao::config::{DataArgs, DatabaseArgs, ServeArgs, Settings};
use baocao::service;
use baocao::startup::{Application, prepare};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "baocao",
    version,
    about = "Báo cáo khoa giáo: lập, tổng hợp và xuất báo cáo theo cây đơn vị"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server.
    Serve(ServeArgs),
    /// Write the consolidated workbook of a round for a unit, as the web download does.
    Export {
        #[command(flatten)]
        db: DatabaseArgs,
        #[arg(long)]
        round: i32,
        #[arg(long)]
        unit: String,
        #[arg(long)]
        out: PathBuf,
        /// Count submitted, not yet accepted reports too.
        #[arg(long)]
        provisional: bool,
    },
    /// Units: reorganisations of the tree.
    Units {
        #[command(subcommand)]
        command: UnitsCommand,
    },
    /// Apply migrations and load data without serving.
    Seed(DataArgs),
}

#[derive(Subcommand)]
enum UnitsCommand {
    /// Apply a reorganisation from a CSV file `old_code,new_code,new_name`: the old units close
    /// the day before, the new ones open on the day under --into; accounts and open rounds follow.
    Reorganise {
        file: PathBuf,
        /// The day the new units exist from, e.g. 2025-07-01.
        #[arg(long)]
        on: chrono::NaiveDate,
        /// The unit the new ones are placed under, e.g. 33 (Tỉnh Hưng Yên).
        #[arg(long)]
        into: String,
        /// Its name, if it does not exist yet, e.g. "Tỉnh Hưng Yên".
        #[arg(long, default_value = "")]
        into_name: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve(args) => serve(args.into()),
        Command::Export {
            db,
            round,
            unit,
            out,
            provisional,
        } => export(db.into(), round, &unit, &out, provisional),
        Command::Units {
            command:
                UnitsCommand::Reorganise {
                    file,
                    on,
                    into,
                    into_name,
                    db,
                },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let pool = baocao::db::connect(&db.database)?;
            let mut conn = pool.get()?;
            let summary = baocao::reorg::reorganise(
                &mut conn,
                &text,
                on,
                &baocao::reorg::Placement {
                    code: into,
                    name: into_name,
                },
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "Đã sắp xếp từ ngày {}: {} đơn vị mới, {} đơn vị kết thúc, {} tài khoản chuyển sang đơn vị mới, {} kỳ báo cáo đang mở chuyển sang đơn vị kế tục, {} thành viên Tổ được chuyển theo.",
                baocao::domain::vn::date_short(on),
                summary.new_units,
                summary.closed_units,
                summary.accounts_moved,
                summary.rounds_moved,
                summary.members_carried
            );
            Ok(())
        }
        Command::Seed(args) => {
            let (_, prepared) = prepare(&args.into())?;
            println!("{prepared:?}");
            Ok(())
        }
    }
}

#[actix_web::main]
async fn serve(settings: Settings) -> anyhow::Result<()> {
    let (app, prepared) = Application::build(&settings)?;
    tracing::info!(?prepared, database = %settings.database, "database ready");
    println!("baocao đang chạy tại http://{}", settings.bind);
    if settings.demo {
        println!(
            "Dữ liệu mẫu (--demo): mỗi đơn vị có một tài khoản, tên đăng nhập là mã đơn vị, mật khẩu \"demo\".\n  Tỉnh: 34   Huyện Quỳnh Phụ: 338   Xã An Khê: 12475   Quản trị: admin"
        );
    }
    app.run().await?;
    Ok(())
}

fn export(
    settings: Settings,
    round: i32,
    unit: &str,
    out: &std::path::Path,
    provisional: bool,
) -> anyhow::Result<()> {
    let (state, _) = prepare(&settings)?;
    let mut conn = state.pool.get()?;
    let len = service::export::to_file(&mut conn, &state.catalog, round, unit, provisional, out)
        .map_err(|e| anyhow::anyhow!("{}", e.user_message()))?;
    println!("Đã ghi {} ({len} byte).", out.display());
    Ok(())
}
