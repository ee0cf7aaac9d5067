//! baocao: hierarchical reporting and consolidation for the science-and-education teams
//! (*Tổ khoa giáo*) of commune Party committees, their district boards and the province.

pub mod backup;
pub mod catalog;
pub mod charts;
pub mod clock;
pub mod config;
pub mod console;
pub mod db;
pub mod document;
pub mod domain;
pub mod error;
pub mod excel;
pub mod gate;
pub mod reorg;
pub mod routes;
pub mod seed;
pub mod service;
pub mod setup;
pub mod startup;
pub mod transfer;

/// What every request handler shares.
pub struct AppState {
    pub pool: db::DbPool,
    pub catalog: catalog::Catalog,
    pub clock: clock::Clock,
    pub limits: config::Limits,
    pub sessions: config::Sessions,
    /// Failed logins, by address and account.
    pub throttle: service::throttle::LoginThrottle,
    /// Password hashes are checked a few at a time, off the database pool, so that a flood of
    /// logins waits its turn instead of taking every core and connection.
    pub hashing: service::hashing::Hashing,
    /// Admission to the database work: bounded running, bounded waiting, then 503.
    pub gate: gate::Gate,
    /// The one connection every request's writes go through, committed in groups.
    pub writer: Option<std::sync::Arc<db::writer::Writer>>,
    /// The write transactions this server has committed (see `routes::kept`).
    pub writes: std::sync::Arc<service::WriteCount>,
    /// The leadership's pages kept between requests (`routes::kept`).
    pub pages: routes::kept::Pages,
    /// What the server's own backups did last.
    pub backups: backup::SharedStatus,
    /// The public origin, when the server is told it (see [`config::Settings::public_url`]).
    pub public_origin: Option<String>,
}

impl AppState {
    /// Whether people reach the server over HTTPS: cookies are then sent over HTTPS only.
    pub fn https(&self) -> bool {
        self.public_origin
            .as_deref()
            .is_some_and(|o| o.starts_with("https://"))
    }
}
