//! `serve --demo-national`: the whole country (the 63 provinces of the 2025-01-04 list under
//! the national root), an account for the central board, every province and district board and
//! a sample of communes (Thái Bình's, and the first of every district), and the central board's
//! six-month round of 2025 with every commune's report filed as the province demo files them.

use std::collections::HashMap;

use diesel::prelude::*;

use super::demo_rounds::{accounts_by_unit, file_communes, open};
use super::{DEMO_ORIENTATION, DEMO_TASKS, demo_accounts_for, load_units};
use crate::catalog::Catalog;
use crate::db::Conn;
use crate::db::models::Unit;
use crate::db::schema::units;
use crate::domain::vn;
use crate::service;
use crate::service::rounds::RoundInput;
use crate::setup::{NATION_CODE, country_csv};

/// Loads the national demo; returns the round's id (`None` when it was there already).
pub fn national_demo(conn: &mut Conn, catalog: &Catalog) -> anyhow::Result<Option<i32>> {
    let root = match service::units::unit_by_code(conn, NATION_CODE, None)
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        Some(root) => root,
        None => {
            let roots: i64 = units::table
                .filter(units::parent_id.is_null())
                .count()
                .get_result(conn)?;
            if roots > 0 {
                anyhow::bail!(
                    "cơ sở dữ liệu này đã có cây đơn vị của một tỉnh; dữ liệu mẫu toàn quốc cần một tệp cơ sở dữ liệu mới (--database)."
                );
            }
            load_units(conn, &country_csv().map_err(|e| anyhow::anyhow!("{e}"))?)?;
            service::units::unit_by_code(conn, NATION_CODE, None)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .ok_or_else(|| anyhow::anyhow!("the national root was not loaded"))?
        }
    };
    let communes: Vec<Unit> = units::table
        .filter(units::kind.eq("commune"))
        .select(Unit::as_select())
        .order(units::code)
        .load(conn)?;
    // Thái Bình's communes, and the first commune of every district.
    let mut first: HashMap<i32, i32> = HashMap::new();
    for c in &communes {
        if let Some(p) = c.parent_id {
            first.entry(p).or_insert(c.id);
        }
    }
    let sampled: std::collections::HashSet<i32> = communes
        .iter()
        .filter(|c| c.path.starts_with(&format!("/{NATION_CODE}/34/")))
        .map(|c| c.id)
        .chain(first.into_values())
        .collect();
    demo_accounts_for(conn, |u| u.kind != "commune" || sampled.contains(&u.id))?;
    let input = RoundInput {
        template: "dinh-ky".into(),
        period_type: "half_year".into(),
        year: 2025,
        orientation: Some(DEMO_ORIENTATION.replace("Tỉnh ủy", "Trung ương")),
        tasks: DEMO_TASKS.iter().map(|t| (*t).to_owned()).collect(),
        ..RoundInput::default()
    };
    let Some((round, template)) = open(conn, catalog, &root, &input, vn::now_utc())? else {
        return Ok(None);
    };
    let account_of = accounts_by_unit(conn)?;
    crate::db::write_lock_transaction(conn, |conn| {
        file_communes(conn, &template, &round, &communes, &account_of)?;
        service::rollup::live::rebuild_round(conn, round.id).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(Some(round.id))
}
