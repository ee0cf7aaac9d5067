//! Data-quality flags on the figures communes file: a figure far from the commune's own
//! earlier rounds of the same kind, or far from its peers in the same round. A flag is a
//! question for the filer and the reviewer, never a refusal.
//!
//! Thresholds (README, "Data quality"):
//! - Own history: the same period type (six months with six months), at least
//!   [`MIN_HISTORY`] earlier rounds; the modified z-score `0.6745·(x − median)/MAD` beyond
//!   [`Z_LIMIT`] (Iglewicz and Hoaglin), *and* the figure at least [`MIN_RATIO`] times (or at
//!   most 1/[`MIN_RATIO`] of) the usual level, so steady growth is not an alarm.
//! - Peers: the communes of the same district in the same round (the whole scope when a
//!   district has fewer than [`MIN_PEERS`]), beyond Tukey's far-out fences
//!   `Q1 − 3·IQR`, `Q3 + 3·IQR`; no flag when the IQR is 0 (a zero-heavy count, where most
//!   communes report 0 and any activity would otherwise be flagged).
//! - Either way, the figure must differ from the usual level by at least [`MIN_GAP`]: a count
//!   of 3 against a usual 0 is not worth a question.

use std::collections::HashMap;

use diesel::prelude::*;
use report_schemas::{IndicatorKind, Template};

use super::access::CurrentUser;
use super::trends::{self, Mapping, values_of};
use super::units::load_subtree;
use super::{RoundCtx, rounds};
use crate::db::Conn;
use crate::db::models::Unit;
use crate::db::schema::reports;
use crate::domain::{UnitRef, vn};
use crate::error::AppResult;

pub const MIN_HISTORY: usize = 3;
pub const Z_LIMIT: f64 = 3.5;
pub const MIN_RATIO: f64 = 2.0;
pub const MIN_PEERS: usize = 8;
pub const FENCE: f64 = 3.0;
pub const MIN_GAP: f64 = 5.0;
/// How many earlier rounds of the same kind the history looks at.
const HISTORY_ROUNDS: usize = 6;

/// Figures by indicator, by unit.
type ByUnit = HashMap<i32, HashMap<String, f64>>;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Flag {
    pub unit: UnitRef,
    pub key: String,
    pub value: f64,
    /// "history" or "peers".
    pub against: &'static str,
    pub message: String,
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// The `q`-quantile of sorted values, interpolated linearly.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len().saturating_sub(1)) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn show(x: f64, decimals: usize) -> String {
    vn::number(x, decimals)
}

/// A figure against the unit's own earlier rounds (oldest first, each with its period).
pub fn against_history(x: f64, history: &[(f64, String)], decimals: usize) -> Option<String> {
    if history.len() < MIN_HISTORY {
        return None;
    }
    let mut sorted: Vec<f64> = history.iter().map(|h| h.0).collect();
    sorted.sort_by(f64::total_cmp);
    let med = median(&sorted);
    let mut deviations: Vec<f64> = sorted.iter().map(|v| (v - med).abs()).collect();
    deviations.sort_by(f64::total_cmp);
    let mad = median(&deviations);
    let gap = x - med;
    if gap.abs() < MIN_GAP {
        return None;
    }
    let z = if mad > 0.0 {
        0.6745 * gap / mad
    } else {
        f64::INFINITY * gap.signum()
    };
    let far = if med > 0.0 {
        x >= MIN_RATIO * med || x <= med / MIN_RATIO
    } else {
        true
    };
    if z.abs() <= Z_LIMIT || !far {
        return None;
    }
    let (last, period) = history.last()?;
    let usual = format!(
        "trung vị {} kỳ trước cùng loại là {}",
        history.len(),
        show(med, decimals)
    );
    Some(if x > med {
        if *last > 0.0 {
            format!(
                "Cao gấp {} lần kỳ trước: {} so với {} ({period}); {usual}.",
                show(x / last, usize::from(x / last < 10.0)),
                show(x, decimals),
                show(*last, decimals)
            )
        } else {
            format!(
                "Kỳ này {}, kỳ trước ({period}) là {}; {usual}.",
                show(x, decimals),
                show(*last, decimals)
            )
        }
    } else {
        format!(
            "Thấp hơn nhiều so với các kỳ trước: {} so với {} ({period}); {usual}.",
            show(x, decimals),
            show(*last, decimals)
        )
    })
}

/// A figure against its peers' in the same round (`peers` excludes the unit itself).
pub fn against_peers(x: f64, peers: &[f64], decimals: usize, whom: &str) -> Option<String> {
    if peers.len() < MIN_PEERS {
        return None;
    }
    let mut sorted = peers.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (q1, q3) = (quantile(&sorted, 0.25), quantile(&sorted, 0.75));
    let iqr = q3 - q1;
    let med = median(&sorted);
    if iqr <= 0.0 || (x - med).abs() < MIN_GAP {
        return None;
    }
    let (lo, hi) = (q1 - FENCE * iqr, q3 + FENCE * iqr);
    if x >= lo && x <= hi {
        return None;
    }
    Some(format!(
        "{} bất thường so với {} {whom} cùng kỳ: {}, trong khi phần lớn từ {} đến {} (trung vị {}).",
        if x > hi { "Cao" } else { "Thấp" },
        peers.len(),
        show(x, decimals),
        show(q1, decimals),
        show(q3, decimals),
        show(med, decimals)
    ))
}

/// The figures a flag looks at: counts and amounts typed in (not ratios, not answers).
fn judged(template: &Template) -> Vec<(&str, usize)> {
    template
        .indicators
        .iter()
        .filter_map(|i| match i.kind {
            IndicatorKind::Integer { .. } => Some((i.key.as_str(), 0)),
            IndicatorKind::Decimal { .. } => Some((i.key.as_str(), 1)),
            _ => None,
        })
        .collect()
}

fn numbers(values: &report_schemas::Values) -> HashMap<String, f64> {
    values
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_number()?)))
        .collect()
}

/// Every flag on the communes of `scope` whose reports are filed in `ctx`'s round, by
/// commune in the tree's order. `draft`, when given, stands for one unit's report as it is
/// being filled (a commune sees its flags before it submits).
pub fn flags(
    conn: &mut Conn,
    user: &CurrentUser,
    ctx: &RoundCtx,
    scope: &Unit,
    draft: Option<(i32, &report_schemas::Values)>,
) -> AppResult<Vec<Flag>> {
    let t = &ctx.template;
    let keys = judged(t);
    let key_names: Vec<&str> = keys.iter().map(|k| k.0).collect();
    let tree = load_subtree(conn, scope, ctx.round.period_end)?;
    let leaves: Vec<&Unit> = tree
        .units
        .iter()
        .filter(|u| !tree.children.contains_key(&u.id))
        .collect();
    let ids: Vec<i32> = leaves.iter().map(|u| u.id).collect();
    let mut now: ByUnit = HashMap::new();
    for chunk in ids.chunks(5000) {
        let filed: Vec<(i32, String)> = reports::table
            .filter(reports::round_id.eq(ctx.round.id))
            .filter(reports::unit_id.eq_any(chunk))
            .filter(reports::status.eq_any(["submitted", "accepted"]))
            .select((reports::unit_id, reports::values_json))
            .load(conn)?;
        for (id, json) in filed {
            now.insert(id, numbers(&values_of(&json, &key_names)?));
        }
    }
    if let Some((id, values)) = draft {
        now.insert(id, numbers(values));
    }
    // The earlier rounds of the same kind, oldest first, mapped onto this round's units.
    let earlier: Vec<_> = trends::rounds_of_template(conn, user, ctx, 64)?
        .into_iter()
        .filter(|r| {
            r.id != ctx.round.id
                && r.period_type == ctx.round.period_type
                && r.period_end < ctx.round.period_start
        })
        .collect();
    let earlier = &earlier[earlier.len().saturating_sub(HISTORY_ROUNDS)..];
    let mapping = Mapping::onto(conn, &tree, &[])?;
    let mut history: Vec<(String, ByUnit)> = Vec::new();
    for round in earlier {
        history.push((
            rounds::period_label(round),
            mapping.by_unit(conn, round.id, &key_names)?,
        ));
    }
    let peers_of = peer_groups(&leaves);
    let mut out = Vec::new();
    for unit in &leaves {
        let Some(mine) = now.get(&unit.id) else {
            continue;
        };
        let (group, whom) = &peers_of[&unit.id];
        for &(key, decimals) in &keys {
            let Some(&x) = mine.get(key) else {
                continue;
            };
            let past: Vec<(f64, String)> = history
                .iter()
                .filter_map(|(period, by_unit)| {
                    by_unit
                        .get(&unit.id)
                        .and_then(|v| v.get(key))
                        .map(|v| (*v, vn::lower_first(period)))
                })
                .collect();
            let peers: Vec<f64> = group
                .iter()
                .filter(|id| **id != unit.id)
                .filter_map(|id| now.get(id).and_then(|v| v.get(key)).copied())
                .collect();
            let mut flag = |against, message| {
                out.push(Flag {
                    unit: (*unit).into(),
                    key: key.to_owned(),
                    value: x,
                    against,
                    message,
                })
            };
            if let Some(m) = against_history(x, &past, decimals) {
                flag("history", m);
            }
            if let Some(m) = against_peers(x, &peers, decimals, whom) {
                flag("peers", m);
            }
        }
    }
    Ok(out)
}

/// Each commune's peers: the communes of its district, or every commune of the scope where
/// the district has too few; with how a message names them.
fn peer_groups(leaves: &[&Unit]) -> HashMap<i32, (Vec<i32>, &'static str)> {
    let all: Vec<i32> = leaves.iter().map(|u| u.id).collect();
    let mut by_parent: HashMap<Option<i32>, Vec<i32>> = HashMap::new();
    for u in leaves {
        by_parent.entry(u.parent_id).or_default().push(u.id);
    }
    leaves
        .iter()
        .map(|u| {
            let siblings = &by_parent[&u.parent_id];
            if siblings.len() > MIN_PEERS {
                (u.id, (siblings.clone(), "xã trong huyện"))
            } else {
                (u.id, (all.clone(), "xã"))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn past(values: &[f64]) -> Vec<(f64, String)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (*v, format!("kỳ {i}")))
            .collect()
    }

    #[test]
    fn a_jump_against_the_units_own_history_is_flagged_and_steady_data_is_not() {
        let steady = past(&[11.0, 12.0, 13.0, 12.0]);
        let m = against_history(120.0, &steady, 0).expect("ten times the usual");
        assert!(
            m.starts_with("Cao gấp 10 lần kỳ trước: 120 so với 12"),
            "{m}"
        );
        assert!(against_history(1.0, &past(&[40.0, 42.0, 38.0]), 0).is_some());
        // Growth, noise, and small counts are no alarm.
        for x in [14.0, 18.0, 9.0] {
            assert_eq!(against_history(x, &steady, 0), None, "{x}");
        }
        assert_eq!(
            against_history(160.0, &past(&[100.0, 110.0, 120.0]), 0),
            None
        );
        assert_eq!(against_history(3.0, &past(&[0.0, 0.0, 0.0]), 0), None);
        // Too little history to judge.
        assert_eq!(against_history(120.0, &past(&[12.0, 12.0]), 0), None);
        // A constant history broken by a large figure is flagged.
        assert!(against_history(40.0, &past(&[0.0, 0.0, 0.0]), 0).is_some());
    }

    #[test]
    fn peers_flag_the_far_out_and_never_a_zero_heavy_count() {
        let peers: Vec<f64> = (0..30).map(|i| 100.0 + (i as f64) * 5.0).collect();
        let m = against_peers(2500.0, &peers, 0, "xã").expect("far out");
        assert!(
            m.starts_with("Cao bất thường so với 30 xã cùng kỳ: 2.500"),
            "{m}"
        );
        assert_eq!(against_peers(260.0, &peers, 0, "xã"), None);
        // Most communes report 0: any activity would be "far out"; never flagged.
        let mut zeros = vec![0.0; 25];
        zeros.extend([1.0, 2.0, 4.0]);
        assert_eq!(against_peers(12.0, &zeros, 0, "xã"), None);
        // Too few peers.
        assert_eq!(against_peers(2500.0, &peers[..5], 0, "xã"), None);
    }
}
