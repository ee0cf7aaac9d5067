//! baocao: hierarchical reporting and consolidation for the science-and-education teams
//! (*Tổ khoa giáo*) of commune Party committees, their district boards and the province.

pub mod catalog;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod excel;
pub mod reorg;
pub mod routes;
pub mod seed;
pub mod service;
pub mod startup;

/// What every request handler shares.
pub struct AppState {
    pub pool: db::DbPool,
    pub catalog: catalog::Catalog,
    pub clock: clock::Clock,
    pub limits: config::Limits,
}
