//! Looking units up, and the tree as it stood on a day: a unit has a validity window, and a
//! round's tree is the tree on its data cut-off date.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::Conn;
use crate::db::models::Unit;
use crate::db::schema::units;
use crate::domain::{Board, UnitRef, vn};
use crate::error::AppResult;

impl From<&Unit> for UnitRef {
    fn from(u: &Unit) -> Self {
        UnitRef {
            code: u.code.clone(),
            name: u.name.clone(),
        }
    }
}

/// The unit's board, as its documents name it (the workbook's header and the official report's).
impl From<&Unit> for Board {
    fn from(u: &Unit) -> Self {
        Board::of(&u.kind, &u.name)
    }
}

pub fn unit_by_id(conn: &mut Conn, id: i32) -> AppResult<Unit> {
    Ok(crate::read_on_backend!(
        conn,
        first,
        units::table.find(id).select(Unit::as_select())
    )?)
}

/// The unit with `code` as it was on `on`; without a day, the one that exists now (or the
/// latest). A code names different units over time: merged communes keep one old code.
pub fn unit_by_code(
    conn: &mut Conn,
    code: &str,
    on: Option<chrono::NaiveDate>,
) -> AppResult<Option<Unit>> {
    let mut rows: Vec<Unit> = crate::read_on_backend!(
        conn,
        load,
        units::table
            .filter(units::code.eq(code))
            .select(Unit::as_select())
    )?;
    rows.sort_by_key(|u| std::cmp::Reverse(u.valid_from));
    Ok(match on {
        Some(day) => rows.into_iter().find(|u| u.valid_on(day)),
        None => {
            let current = rows.iter().position(|u| u.valid_to.is_none());
            match current {
                Some(i) => Some(rows.swap_remove(i)),
                None => rows.into_iter().next(),
            }
        }
    })
}

/// Units valid on `day`: the shape of the tree for a period.
macro_rules! valid_on {
    ($query:expr, $day:expr) => {
        $query
            .filter(units::valid_from.is_null().or(units::valid_from.le($day)))
            .filter(units::valid_to.is_null().or(units::valid_to.ge($day)))
    };
}

/// Whether `unit` had units below it on `day` (it consolidates rather than files figures).
pub fn has_children(conn: &mut Conn, unit: &Unit, day: chrono::NaiveDate) -> AppResult<bool> {
    let n: i64 = crate::read_on_backend!(
        conn,
        get_result,
        valid_on!(units::table.filter(units::parent_id.eq(unit.id)), day).count()
    )?;
    Ok(n > 0)
}

/// The units directly below `unit` on `day`, in Vietnamese order.
pub fn children_on(conn: &mut Conn, unit: &Unit, day: chrono::NaiveDate) -> AppResult<Vec<Unit>> {
    let mut children: Vec<Unit> = valid_on!(units::table.filter(units::parent_id.eq(unit.id)), day)
        .select(Unit::as_select())
        .load(conn)?;
    children.sort_by(|a, b| vn::compare(&a.name, &b.name));
    Ok(children)
}

pub struct Tree {
    pub units: Vec<Unit>,
    pub children: HashMap<i32, Vec<usize>>,
}

/// `root` and every unit below it, as the tree stood on `day`.
pub fn load_subtree(conn: &mut Conn, root: &Unit, day: chrono::NaiveDate) -> AppResult<Tree> {
    let mut units: Vec<Unit> = valid_on!(
        units::table.filter(units::path.like(format!("{}%", root.path))),
        day
    )
    .select(Unit::as_select())
    .load(conn)?;
    if !units.iter().any(|u| u.id == root.id) {
        units.push(root.clone());
    }
    let mut children: HashMap<i32, Vec<usize>> = HashMap::new();
    for (i, u) in units.iter().enumerate() {
        if let Some(p) = u.parent_id {
            children.entry(p).or_default().push(i);
        }
    }
    for list in children.values_mut() {
        list.sort_by(|&a, &b| vn::compare(&units[a].name, &units[b].name));
    }
    Ok(Tree { units, children })
}

/// What a kept subtree was read at: the units' count, highest id and closed count, and the
/// successions' count.
type UnitsVersion = (i64, Option<i32>, i64, i64);

/// Subtrees already read, by root and day, with the version of the units they were read at.
static SUBTREES: super::kept::Kept<(i32, chrono::NaiveDate), UnitsVersion, std::sync::Arc<Tree>> =
    super::kept::Kept::new(256);

/// [`load_subtree`], kept between requests while the units stay as they were: no unit added,
/// closed or reorganised since (their count, highest id, closed count and successions). For
/// who is in it and where (ids, paths, validity); a rename is not seen, so not for names.
pub fn cached_subtree(
    conn: &mut Conn,
    root: &Unit,
    day: chrono::NaiveDate,
) -> AppResult<std::sync::Arc<Tree>> {
    use diesel::dsl::{count, count_star, max};
    let (n, highest, closed): (i64, Option<i32>, i64) = units::table
        .select((count_star(), max(units::id), count(units::valid_to)))
        .first(conn)?;
    let links: i64 = crate::db::schema::unit_successions::table
        .count()
        .get_result(conn)?;
    let version = (n, highest, closed, links);
    let key = (root.id, day);
    if let Some(tree) = SUBTREES.get(&key, &version) {
        return Ok(tree);
    }
    let tree = std::sync::Arc::new(load_subtree(conn, root, day)?);
    SUBTREES.put(key, version, tree.clone());
    Ok(tree)
}
