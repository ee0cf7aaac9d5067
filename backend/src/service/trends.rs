//! A unit's figures across rounds: the rounds of the same template before this one, the
//! previous period of the same kind, and each round's consolidation mapped onto this round's
//! units (across a reorganisation, each new unit counts the old units merged into it).

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use report_schemas::{Rollup, Values};

use super::access::{CurrentUser, sees_round};
use super::units::Tree;
use super::{RoundCtx, parse_map};
use crate::catalog::Catalog;
use crate::db::Conn;
use crate::db::models::{Round, Unit};
use crate::db::schema::{reports, rounds, templates, unit_successions, units};
use crate::error::AppResult;

/// The rounds of `ctx`'s template (any version) that `user` sees, up to and including
/// `ctx`'s own, oldest first, at most `limit` of them (the latest).
pub fn rounds_of_template(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    limit: usize,
) -> AppResult<Vec<Round>> {
    let rows: Vec<(Round, Unit)> = rounds::table
        .inner_join(templates::table)
        .inner_join(units::table.on(units::id.eq(rounds::owner_unit_id)))
        .filter(templates::key.eq(&ctx.template.key))
        .filter(rounds::period_end.le(ctx.round.period_end))
        .order((rounds::period_end.desc(), rounds::id.desc()))
        .select((Round::as_select(), Unit::as_select()))
        .load(conn)?;
    // One round per period, this one first among its period's.
    let mut seen = HashSet::from([(ctx.round.period_type.clone(), ctx.round.period_start)]);
    let mut out: Vec<Round> = rows
        .into_iter()
        .filter(|(r, owner)| {
            r.id == ctx.round.id
                || (sees_round(user, owner) && seen.insert((r.period_type.clone(), r.period_start)))
        })
        .map(|(r, _)| r)
        .collect();
    out.truncate(limit);
    out.reverse();
    Ok(out)
}

/// The round of the same template and period type just before `ctx`'s (the previous six
/// months for six months, the previous year for a year), if `user` sees one.
pub fn previous_round(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
) -> AppResult<Option<Round>> {
    let rounds = rounds_of_template(conn, user, ctx, 64)?;
    Ok(rounds.into_iter().rev().find(|r| {
        r.id != ctx.round.id
            && r.period_type == ctx.round.period_type
            && r.period_end < ctx.round.period_start
    }))
}

/// Where the figures of another round land among this round's units.
pub struct Mapping {
    /// Every unit of this round's subtree, by id.
    units: HashMap<i32, String>,
    /// Old unit → the unit that continues it.
    links: HashMap<i32, i32>,
    /// The paths that identify the rows' subtrees.
    row_paths: Vec<String>,
    /// A hash of all of the above: two mappings with the same land figures alike.
    fingerprint: u64,
}

/// Consolidations of other rounds already mapped, by a hash of what they were computed from
/// (the mapping, the round and its live state's stamp, what was counted): a closed round's
/// figures are read once, not on every dashboard; any change to the round restamps it.
static MAPPED: super::kept::Kept<u64, (), Mapped> = super::kept::Kept::new(2_000);

/// A mapped consolidation: the total over the subtree and one aggregate per row.
type Mapped = (Rollup, Vec<Rollup>);

impl Mapping {
    /// The mapping onto `tree` (a subtree as it stood on this round's cut-off), with a row for
    /// each unit of `rows` (by code).
    pub fn onto(conn: &mut Conn, tree: &Tree, rows: &[&str]) -> AppResult<Mapping> {
        let links: HashMap<i32, i32> = unit_successions::table
            .select((unit_successions::old_unit_id, unit_successions::new_unit_id))
            .load::<(i32, i32)>(conn)?
            .into_iter()
            .collect();
        let row_paths: Vec<String> = rows
            .iter()
            .filter_map(|code| tree.units.iter().find(|u| u.code == *code))
            .map(|u| u.path.clone())
            .collect();
        let fingerprint = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            let mut units: Vec<(i32, &str)> =
                tree.units.iter().map(|u| (u.id, u.path.as_str())).collect();
            units.sort_unstable();
            let mut sorted_links: Vec<(i32, i32)> = links.iter().map(|(a, b)| (*a, *b)).collect();
            sorted_links.sort_unstable();
            (units, sorted_links, &row_paths).hash(&mut h);
            h.finish()
        };
        Ok(Mapping {
            units: tree.units.iter().map(|u| (u.id, u.path.clone())).collect(),
            links,
            row_paths,
            fingerprint,
        })
    }

    /// The unit of this round's subtree that `unit_id` is or became, and its path.
    fn target(&self, unit_id: i32) -> Option<(i32, &str)> {
        let mut current = unit_id;
        for _ in 0..16 {
            if let Some(path) = self.units.get(&current) {
                return Some((current, path));
            }
            current = *self.links.get(&current)?;
        }
        None
    }

    /// `other`'s figures filed by communes (accepted, and submitted too if `provisional`),
    /// mapped: the total over the subtree and one aggregate per row.
    pub fn consolidate(
        &self,
        conn: &mut Conn,
        other: &RoundCtx,
        provisional: bool,
    ) -> AppResult<(Rollup, Vec<Rollup>)> {
        self.consolidate_for(conn, other, provisional, None, None)
    }

    /// [`Mapping::consolidate`], counting only the figures that land on the units of `only`
    /// (this round's units whose reports count), so that two totals compare like with like,
    /// and reading only the indicators `keys` when given (a trend needs one).
    pub fn consolidate_for(
        &self,
        conn: &mut Conn,
        other: &RoundCtx,
        provisional: bool,
        only: Option<&HashSet<i32>>,
        keys: Option<&[&str]>,
    ) -> AppResult<(Rollup, Vec<Rollup>)> {
        let key = super::rollup::live::round_stamp(conn, other.round.id)?.map(|stamp| {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            let mut only: Option<Vec<i32>> = only.map(|o| o.iter().copied().collect());
            if let Some(o) = only.as_mut() {
                o.sort_unstable();
            }
            (
                self.fingerprint,
                other.round.id,
                stamp,
                provisional,
                only,
                keys,
            )
                .hash(&mut h);
            h.finish()
        });
        if let Some(hit) = key.and_then(|k| MAPPED.get(&k, &())) {
            return Ok(hit);
        }
        let computed = self.consolidate_now(conn, other, provisional, only, keys)?;
        if let Some(key) = key {
            MAPPED.put(key, (), computed.clone());
        }
        Ok(computed)
    }

    fn consolidate_now(
        &self,
        conn: &mut Conn,
        other: &RoundCtx,
        provisional: bool,
        only: Option<&HashSet<i32>>,
        keys: Option<&[&str]>,
    ) -> AppResult<(Rollup, Vec<Rollup>)> {
        let counted: Vec<(i32, String)> = reports::table
            .filter(reports::round_id.eq(other.round.id))
            .filter(reports::status.eq_any(if provisional {
                vec!["accepted", "submitted"]
            } else {
                vec!["accepted"]
            }))
            .select((reports::unit_id, reports::values_json))
            .load(conn)?;
        let ids: Vec<i32> = counted.iter().map(|r| r.0).collect();
        // Consolidated reports (a district's) are not figures of their own.
        let mut parents: HashSet<i32> = HashSet::new();
        for chunk in ids.chunks(5000) {
            parents.extend(
                units::table
                    .filter(units::parent_id.eq_any(chunk))
                    .select(units::parent_id.assume_not_null())
                    .distinct()
                    .load::<i32>(conn)?,
            );
        }
        let mut per_row = vec![Rollup::default(); self.row_paths.len()];
        let mut total = Rollup::default();
        for (unit_id, json) in counted.iter().filter(|r| !parents.contains(&r.0)) {
            let Some((target, path)) = self.target(*unit_id) else {
                continue;
            };
            if only.is_some_and(|o| !o.contains(&target)) {
                continue;
            }
            let values: Values = match keys {
                Some(keys) => values_of(json, keys)?,
                None => parse_map(json)?,
            };
            total.add(&other.template, &values);
            if let Some(i) = self.row_paths.iter().position(|p| path.starts_with(p)) {
                per_row[i].add(&other.template, &values);
            }
        }
        Ok((total, per_row))
    }
}

impl Mapping {
    /// The accepted figures `keys` of round `round_id`, by the unit of this round's
    /// subtree each landed on (old units merged into one are summed).
    pub fn by_unit(
        &self,
        conn: &mut Conn,
        round_id: i32,
        keys: &[&str],
    ) -> AppResult<HashMap<i32, HashMap<String, f64>>> {
        let counted: Vec<(i32, String)> = reports::table
            .filter(reports::round_id.eq(round_id))
            .filter(reports::status.eq("accepted"))
            .select((reports::unit_id, reports::values_json))
            .load(conn)?;
        let mut out: HashMap<i32, HashMap<String, f64>> = HashMap::new();
        for (unit_id, json) in &counted {
            let Some((target, _)) = self.target(*unit_id) else {
                continue;
            };
            let values = values_of(json, keys)?;
            let into = out.entry(target).or_default();
            for (k, v) in values {
                if let Some(x) = v.as_number() {
                    *into.entry(k).or_default() += x;
                }
            }
        }
        Ok(out)
    }
}

/// The figures `keys` of a stored report's values, the others skipped unread.
pub(super) fn values_of(json: &str, keys: &[&str]) -> AppResult<Values> {
    use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};

    struct Only<'k>(&'k [&'k str]);

    impl<'de> Visitor<'de> for Only<'_> {
        type Value = Values;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a report's values")
        }

        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Values, M::Error> {
            let mut out = Values::new();
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if self.0.contains(&key.as_ref()) {
                    out.insert(key.into_owned(), map.next_value()?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(out)
        }
    }

    impl<'de> DeserializeSeed<'de> for Only<'_> {
        type Value = Values;

        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Values, D::Error> {
            d.deserialize_map(self)
        }
    }

    let mut de = serde_json::Deserializer::from_str(json);
    Only(keys).deserialize(&mut de).map_err(|e| {
        crate::error::AppError::Unexpected(
            anyhow::Error::new(e).context("stored report JSON unreadable"),
        )
    })
}

/// One round of a series: what it is and the unit's consolidated figures in it.
pub struct SeriesRound {
    pub ctx: RoundCtx,
    pub total: Rollup,
}

/// `unit`'s consolidation (accepted reports) in every round of `ctx`'s template up to
/// `ctx`'s, at most `limit`, oldest first, each mapped onto the units of `ctx`'s round.
pub fn series(
    conn: &mut Conn,
    catalog: &Catalog,
    user: &CurrentUser,
    ctx: &RoundCtx,
    unit: &Unit,
    limit: usize,
    keys: Option<&[&str]>,
) -> AppResult<Vec<SeriesRound>> {
    let tree = super::units::cached_subtree(conn, unit, ctx.round.period_end)?;
    let mapping = Mapping::onto(conn, &tree, &[])?;
    let mut out = Vec::new();
    for round in rounds_of_template(conn, user, ctx, limit)? {
        let other = super::access::round_for(conn, catalog, user, round.id, ctx.now)?;
        let (total, _) = mapping.consolidate_for(conn, &other, false, None, keys)?;
        out.push(SeriesRound { ctx: other, total });
    }
    Ok(out)
}

/// The same period a year earlier, for year-over-year: same type and index, one year back.
pub fn year_before(round: &Round, candidates: &[SeriesRound]) -> Option<usize> {
    candidates.iter().position(|s| {
        s.ctx.round.period_type == round.period_type
            && s.ctx.round.period_index == round.period_index
            && s.ctx.round.period_year + 1 == round.period_year
    })
}

/// The units of `tree` whose reports count in `ctx`'s round (accepted, or submitted too if
/// `provisional`).
pub fn counted_units(
    conn: &mut Conn,
    ctx: &RoundCtx,
    tree: &Tree,
    provisional: bool,
) -> AppResult<HashSet<i32>> {
    let statuses = if provisional {
        vec!["accepted", "submitted"]
    } else {
        vec!["accepted"]
    };
    let in_tree: HashSet<i32> = tree.units.iter().map(|u| u.id).collect();
    Ok(reports::table
        .filter(reports::round_id.eq(ctx.round.id))
        .filter(reports::status.eq_any(statuses))
        .select(reports::unit_id)
        .load::<i32>(conn)?
        .into_iter()
        .filter(|id| in_tree.contains(id))
        .collect())
}
