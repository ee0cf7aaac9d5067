//! The application's clock. Real time in service; tests set it to judge deadlines at an
//! exact instant (midnight in Vietnam, say) without waiting for it.

use std::sync::{Arc, RwLock};

use chrono::NaiveDateTime;

use crate::domain::vn;

#[derive(Debug, Clone, Default)]
pub struct Clock(Arc<RwLock<Option<NaiveDateTime>>>);

impl Clock {
    /// Now, as a UTC instant.
    pub fn now(&self) -> NaiveDateTime {
        match self.0.read() {
            Ok(fixed) => fixed.unwrap_or_else(vn::now_utc),
            Err(_) => vn::now_utc(),
        }
    }

    /// Stops the clock at `at` (UTC), or lets it run again with `None`.
    pub fn set(&self, at: Option<NaiveDateTime>) {
        if let Ok(mut fixed) = self.0.write() {
            *fixed = at;
        }
    }
}
