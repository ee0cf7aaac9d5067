//! The live states this process has read or written, by round and unit, each with the stamp it
//! was stored under. A state is used only while the database holds the same stamp, so a state
//! another server (or a rolled-back transaction) wrote since is read again, never trusted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use super::scratch::State;

/// States kept at most: a national round has some 760 units with children.
const CAPACITY: usize = 50_000;

type States = HashMap<(i32, i32), (i64, Arc<State>)>;

static STATES: Mutex<Option<States>> = Mutex::new(None);

fn states() -> std::sync::MutexGuard<'static, Option<States>> {
    STATES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub fn get(round: i32, unit: i32, stamp: i64) -> Option<Arc<State>> {
    let guard = states();
    let (kept, state) = guard.as_ref()?.get(&(round, unit))?;
    (*kept == stamp).then(|| state.clone())
}

pub fn put(round: i32, unit: i32, stamp: i64, state: Arc<State>) {
    let mut guard = states();
    let map = guard.get_or_insert_with(HashMap::new);
    if map.len() >= CAPACITY && !map.contains_key(&(round, unit)) {
        // Rare, and cheap to refill: start over rather than keep an order of use.
        map.clear();
    }
    map.insert((round, unit), (stamp, state));
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
