//! The `baocao` command: the web server and the operator's tools. Thin: it parses the command
//! line and hands over to `baocao::console`.

use std::path::PathBuf;

use baocao::config::{DatabaseArgs, ServeArgs};
use baocao::console;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// mimalloc rather than glibc's allocator: a deadline rush spent about a sixth of the server's
/// CPU in glibc's malloc and free (many small, short-lived allocations across threads). Built
/// without transparent huge pages (`no_thp`), which doubled the server's resident memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Run the web server (on a database set up with `setup`, or with --demo).
    Serve(ServeArgs),
    /// Set a province up on a new database: its units and the first administrator. Safe to run again.
    Setup {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The province's GSO code in the national list of 2025-01-04, e.g. 34 (Thái Bình), 01 (Hà Nội).
        #[arg(long, required_unless_present_any = ["units", "country"], conflicts_with_all = ["units", "country"])]
        province: Option<String>,
        /// Instead: a CSV file `code,name,kind,parent_code` of a tree of one's own, with one root.
        #[arg(long, conflicts_with = "country")]
        units: Option<PathBuf>,
        /// Instead: the whole country, all 63 provinces under a national root (code VN), for the
        /// central board.
        #[arg(long)]
        country: bool,
        /// The first administrator's user name.
        #[arg(long, default_value = "admin")]
        admin_username: String,
        /// The first administrator's full name.
        #[arg(long, default_value = "Quản trị hệ thống")]
        admin_name: String,
        /// A file whose first line is the administrator's password, for unattended installs
        /// (or the environment variable BAOCAO_ADMIN_PASSWORD; else it is asked at the terminal).
        #[arg(long)]
        admin_password_file: Option<PathBuf>,
    },
    /// List the rounds: their numbers (what `export --round` takes), titles, periods, owners.
    Rounds {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Write the consolidated workbook of a round for a unit, as the web download does.
    Export {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The round's number (see `baocao rounds`).
        #[arg(long)]
        round: i32,
        /// The unit's code, e.g. 34.
        #[arg(long)]
        unit: String,
        #[arg(long)]
        out: PathBuf,
        /// Count submitted, not yet accepted reports too.
        #[arg(long)]
        provisional: bool,
    },
    /// Copy the database to FILE, consistently, even while the server writes; checked before it counts.
    Backup {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The backup file to write (it must not exist yet).
        #[arg(long)]
        to: PathBuf,
    },
    /// Put a backup in place of the database, after checking it. Stop the server first.
    Restore {
        /// The backup file.
        from: PathBuf,
        #[command(flatten)]
        db: DatabaseArgs,
        /// Replace an existing database (it is kept beside it under another name).
        #[arg(long)]
        force: bool,
    },
    /// Units: reorganisations of the tree.
    Units {
        #[command(subcommand)]
        command: UnitsCommand,
    },
    /// Move a whole database to another, empty one (a SQLite file to PostgreSQL, say), checked
    /// by counting every table's rows and comparing every round's consolidation on both sides.
    /// Stop the servers first; the source is only read.
    Migrate {
        /// The database to move: a SQLite file (path or sqlite://path) or postgres://…
        #[arg(long)]
        from: String,
        /// The empty database to move it to (its schema is made first): postgres://… or a file.
        #[arg(long)]
        to: String,
    },
    /// The live consolidations kept for every round: check them, or build them again.
    Rollups {
        #[command(subcommand)]
        command: RollupsCommand,
    },
}

#[derive(Subcommand)]
enum RollupsCommand {
    /// Recompute every consolidation from the reports and compare it with the stored one;
    /// fails if any differs.
    Check {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Only this round (see `baocao rounds`).
        #[arg(long)]
        round: Option<i32>,
    },
    /// Consolidate from the reports again and store the result, in one transaction (the
    /// server may keep running).
    Rebuild {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Only this round (see `baocao rounds`).
        #[arg(long)]
        round: Option<i32>,
    },
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

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let outcome = match Cli::parse().command {
        Command::Serve(args) => args.settings().and_then(console::serve),
        Command::Setup {
            db,
            province,
            units,
            country,
            admin_username,
            admin_name,
            admin_password_file,
        } => db.settings().and_then(|settings| {
            console::setup(
                settings,
                province,
                units,
                country,
                admin_username,
                admin_name,
                admin_password_file,
            )
        }),
        Command::Rounds { db } => db.settings().and_then(console::rounds),
        Command::Export {
            db,
            round,
            unit,
            out,
            provisional,
        } => db
            .settings()
            .and_then(|settings| console::export(settings, round, &unit, &out, provisional)),
        Command::Backup { db, to } => db.settings().and_then(|s| console::backup(s, &to)),
        Command::Restore { from, db, force } => db
            .settings()
            .and_then(|s| console::restore(s, &from, force)),
        Command::Units {
            command:
                UnitsCommand::Reorganise {
                    file,
                    on,
                    into,
                    into_name,
                    db,
                },
        } => db
            .settings()
            .and_then(|settings| console::reorganise(settings, &file, on, into, into_name)),
        Command::Migrate { from, to } => console::migrate(&from, &to),
        Command::Rollups {
            command: RollupsCommand::Check { db, round },
        } => db
            .settings()
            .and_then(|settings| console::rollups_check(settings, round)),
        Command::Rollups {
            command: RollupsCommand::Rebuild { db, round },
        } => db
            .settings()
            .and_then(|settings| console::rollups_rebuild(settings, round)),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Lỗi: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
