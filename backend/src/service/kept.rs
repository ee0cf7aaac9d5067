//! Values kept between requests in this process, each with the version of the data it was
//! computed from: a value is handed out only while the asker's version is the one it was kept
//! with, so a change anywhere (another server, a rolled-back write) is read again, never
//! trusted. Bounded: when full, it starts over (rare, and cheap to refill).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};

pub struct Kept<K, W, V> {
    map: Mutex<Option<HashMap<K, (W, V)>>>,
    capacity: usize,
}

impl<K, W, V> Kept<K, W, V> {
    pub const fn new(capacity: usize) -> Self {
        Kept {
            map: Mutex::new(None),
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<HashMap<K, (W, V)>>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<K: Hash + Eq, W: PartialEq, V: Clone> Kept<K, W, V> {
    /// The value kept under `key`, if it was kept at `version`.
    pub fn get(&self, key: &K, version: &W) -> Option<V> {
        let guard = self.lock();
        let (kept, value) = guard.as_ref()?.get(key)?;
        (kept == version).then(|| value.clone())
    }

    pub fn put(&self, key: K, version: W, value: V) {
        let mut guard = self.lock();
        let map = guard.get_or_insert_with(HashMap::new);
        if map.len() >= self.capacity && !map.contains_key(&key) {
            map.clear();
        }
        map.insert(key, (version, value));
    }
}
