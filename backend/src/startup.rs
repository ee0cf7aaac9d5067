//! Building the application from its settings: database, templates, seed data, HTTP server.

use std::net::TcpListener;
use std::path::PathBuf;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, DefaultHeaders};
use actix_web::{App, HttpServer, web};
use tracing_actix_web::TracingLogger;

use crate::AppState;
use crate::catalog::{self, Catalog};
use crate::{db, routes, seed};

#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: String,
    pub database: String,
    /// Load the demo accounts, round and reports (idempotent).
    pub demo: bool,
    /// Where the template files are; `None` uses `report-schemas/schemas` when present,
    /// else the templates built into the binary.
    pub schemas: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: "127.0.0.1:8080".into(),
            database: "baocao.db".into(),
            demo: false,
            schemas: None,
        }
    }
}

/// What a start-up did, for the operator's console.
#[derive(Debug, Default)]
pub struct Prepared {
    pub templates_added: usize,
    pub units_added: usize,
    pub accounts_added: usize,
    pub demo_round: Option<i32>,
}

fn schemas_dir(settings: &Settings) -> Option<PathBuf> {
    settings.schemas.clone().or_else(|| {
        let default = PathBuf::from("report-schemas/schemas");
        default.is_dir().then_some(default)
    })
}

/// Opens the database, applies migrations, records the templates and, with `demo`, loads the
/// demo data. Units are always loaded on an empty database, so a fresh install can log in.
pub fn prepare(settings: &Settings) -> anyhow::Result<(AppState, Prepared)> {
    let pool = db::connect(&settings.database)?;
    let catalog = Catalog::default();
    let mut conn = pool.get()?;
    let mut prepared = Prepared {
        templates_added: catalog::sync(&mut conn, schemas_dir(settings).as_deref())?,
        ..Prepared::default()
    };
    if settings.demo {
        prepared.units_added = seed::load_units(&mut conn, seed::THAI_BINH_UNITS)?;
        prepared.accounts_added = seed::demo_accounts(&mut conn)?;
        seed::demo_rosters(&mut conn)?;
        prepared.demo_round = seed::demo_round(&mut conn, &catalog)?;
    }
    drop(conn);
    Ok((
        AppState {
            pool,
            catalog,
            clock: crate::clock::Clock::default(),
        },
        prepared,
    ))
}

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds the listener (port 0 picks a free port) and builds the server without running it.
    pub fn build(settings: &Settings) -> anyhow::Result<(Application, Prepared)> {
        let (state, prepared) = prepare(settings)?;
        let listener = TcpListener::bind(&settings.bind)?;
        Ok((Application::with_listener(state, listener)?, prepared))
    }

    pub fn with_listener(state: AppState, listener: TcpListener) -> anyhow::Result<Application> {
        let port = listener.local_addr()?.port();
        let state = web::Data::new(state);
        let server = HttpServer::new(move || {
            App::new()
                .wrap(TracingLogger::default())
                .wrap(Compress::default())
                .wrap(
                    DefaultHeaders::new()
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("X-Frame-Options", "DENY"))
                        .add(("Referrer-Policy", "same-origin")),
                )
                .app_data(state.clone())
                .configure(routes::api::configure)
                .configure(routes::roster_pages::configure)
                .configure(routes::pages::configure)
        })
        .listen(listener)?
        .run();
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}
