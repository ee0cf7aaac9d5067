//! The live states this process has read or written, by round and unit, each with the stamp it
//! was stored under. A state is used only while the database holds the same stamp, so a state
//! another server (or a rolled-back transaction) wrote since is read again, never trusted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use super::scratch::State;
use crate::service::kept::Kept;

/// States kept at most: a national round has some 760 units with children.
static STATES: Kept<(i32, i32), i64, Arc<State>> = Kept::new(50_000);

pub fn get(round: i32, unit: i32, stamp: i64) -> Option<Arc<State>> {
    STATES.get(&(round, unit), &stamp)
}

pub fn put(round: i32, unit: i32, stamp: i64, state: Arc<State>) {
    STATES.put((round, unit), stamp, state);
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
