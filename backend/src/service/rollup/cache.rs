//! The live states this process has read or written, by round and unit, each with the stamp it
//! was stored under. A state is used only while the database holds the same stamp, so a state
//! another server (or a rolled-back transaction) wrote since is read again, never trusted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use report_schemas::Template;

use super::RoundCtx;
use super::scratch::{Filed, State};
use crate::error::AppResult;
use crate::service::kept::Kept;

/// States kept at most: a national round has some 760 units with children.
static STATES: Kept<(i32, i32), i64, Arc<State>> = Kept::new(50_000);

pub fn get(round: i32, unit: i32, stamp: i64) -> Option<Arc<State>> {
    STATES.get(&(round, unit), &stamp)
}

pub fn put(round: i32, unit: i32, stamp: i64, state: Arc<State>) {
    STATES.put((round, unit), stamp, state);
}

/// A leaf's part in its parent's state as this process last merged it, by round and unit, with
/// everything it was made of: the report's status, first submission and figures exactly as read
/// (compared whole, so a report changed by anyone, or a change rolled back, is merged anew), the
/// commune deadline and the template (the same one in memory: a context built with a template
/// parsed anew merely misses). A district's merge reads its communes' reports anyway;
/// this spares parsing and adding up every one of them again for each change among them.
static LEAVES: Kept<(i32, i32), LeafOf, Arc<State>> = Kept::new(20_000);

struct LeafOf {
    filed: Filed,
    deadline: chrono::NaiveDateTime,
    /// The very template (held, so that it is not another one at the same address): two
    /// servers in one process may each have a template under one id.
    template: Arc<Template>,
}

impl PartialEq for LeafOf {
    fn eq(&self, other: &Self) -> bool {
        self.filed == other.filed
            && self.deadline == other.deadline
            && Arc::ptr_eq(&self.template, &other.template)
    }
}

/// A leaf's part from its report (`None`: none filed), kept or made.
pub fn leaf(ctx: &RoundCtx, unit: i32, filed: Option<Filed>) -> AppResult<Arc<State>> {
    let Some(filed) = filed else {
        return Ok(Arc::new(State::of_leaf(&ctx.template, None, ctx)?));
    };
    let key = (ctx.round.id, unit);
    let of = LeafOf {
        filed,
        deadline: ctx.deadline_for(true),
        template: ctx.template.clone(),
    };
    if let Some(state) = LEAVES.get(&key, &of) {
        return Ok(state);
    }
    let state = Arc::new(State::of_leaf(&ctx.template, Some(&of.filed), ctx)?);
    LEAVES.put(key, of, state.clone());
    Ok(state)
}

/// A stamp no other write of this process has, and unlike any other process's: a random start,
/// stepped through every 64-bit value once.
pub fn new_stamp() -> i64 {
    static START: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let start = *START.get_or_init(|| {
        let mut bytes = [0u8; 8];
        // Without randomness, a clock still sets processes apart.
        if getrandom::fill(&mut bytes).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            bytes = nanos.to_le_bytes();
        }
        u64::from_le_bytes(bytes)
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    (start ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)) as i64
}
