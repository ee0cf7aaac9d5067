//! Admission to the work that needs a database connection and a core. A request waits for its
//! turn as a cheap task, not as a blocked thread: a bounded number of jobs run at once (the
//! pool's connections), a bounded number wait; past that the server answers at once that it
//! is busy (503, with when to try again) instead of piling up threads and memory.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateLimits {
    /// Jobs running at once.
    pub running: usize,
    /// Jobs admitted at once, running or waiting for their turn.
    pub admitted: usize,
}

impl Default for GateLimits {
    fn default() -> Self {
        GateLimits {
            running: crate::db::POOL_SIZE as usize,
            // A deadline rush of a few thousand people saving at once waits its turn; each
            // waiting request is a small task, not a thread.
            admitted: 4096,
        }
    }
}

pub struct Gate {
    running: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
}

/// A job's turn: it holds its place until dropped.
pub struct Turn {
    running: OwnedSemaphorePermit,
    admitted: OwnedSemaphorePermit,
}

/// A job's place among those admitted, once it no longer runs.
pub struct Admitted(#[allow(dead_code)] OwnedSemaphorePermit);

impl Turn {
    /// Its running place, to give back once the job no longer needs a connection and a core,
    /// and its admitted place, held until it is answered.
    pub fn split(self) -> (OwnedSemaphorePermit, Admitted) {
        (self.running, Admitted(self.admitted))
    }
}

/// Every place is taken.
#[derive(Debug)]
pub struct Busy;

impl Gate {
    pub fn new(limits: GateLimits) -> Gate {
        Gate {
            running: Arc::new(Semaphore::new(limits.running.max(1))),
            admitted: Arc::new(Semaphore::new(limits.admitted.max(limits.running).max(1))),
        }
    }

    /// Waits for a turn, or says at once that too many are waiting already.
    pub async fn enter(&self) -> Result<Turn, Busy> {
        let admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| Busy)?;
        let running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Busy)?;
        Ok(Turn { running, admitted })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_its_places_the_gate_says_busy_at_once() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let gate = Gate::new(GateLimits {
                running: 1,
                admitted: 2,
            });
            let first = gate.enter().await.expect("runs");
            // The second waits for the first; a third has no place.
            let second = gate.admitted.clone().try_acquire_owned().expect("waits");
            assert!(gate.enter().await.is_err());
            drop(second);
            drop(first);
            assert!(gate.enter().await.is_ok());
        });
    }
}
