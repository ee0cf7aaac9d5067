//! End-to-end tests: the real server over real HTTP with a real database file.

mod accounts;
mod api_doc;
mod approval;
mod authorization;
mod bad_input;
mod browser;
mod dashboard;
mod document;
mod drafts;
mod export;
mod forgery;
mod forms_zip;
mod going_live;
mod helpers;
mod hostile;
mod offline;
mod pages;
mod phone;
mod queue;
mod reorg;
mod roster;
mod round_life;
mod rounds;
mod sessions;
mod story;
mod workbook;
