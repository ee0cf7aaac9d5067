//! Password hashing on a few threads of its own. Argon2 takes 19 MiB and about 57 ms of CPU
//! per password by design; glibc's allocator (the server's until it took mimalloc, and still
//! the library's in tests) keeps a freed buffer that large in the arena of the thread that
//! used it, so hashing on whichever blocking thread is free grew the server by 19 MiB for
//! every thread that ever hashed (277 MB in a login rush). Here the same few threads hash
//! every password, so the memory is theirs and stays bounded, and logins wait in a bounded
//! queue as small tasks, not as threads; a full queue is answered at once as busy.

use std::sync::{Arc, Mutex, mpsc};

use tokio::sync::Semaphore;

type Job = Box<dyn FnOnce() + Send>;

pub struct Hashing {
    jobs: mpsc::Sender<Job>,
    /// Places in the queue, hashing or waiting.
    places: Arc<Semaphore>,
}

/// The queue is full.
#[derive(Debug)]
pub struct Full;

impl Hashing {
    /// `threads` hashing threads, and at most `queue` passwords hashing or waiting.
    pub fn new(threads: usize, queue: usize) -> Hashing {
        let (jobs, work) = mpsc::channel::<Job>();
        let work = Arc::new(Mutex::new(work));
        for n in 0..threads.max(1) {
            let work = work.clone();
            std::thread::Builder::new()
                .name(format!("hashing-{n}"))
                .spawn(move || {
                    loop {
                        let job = match work.lock() {
                            Ok(work) => work.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        // A job that panics loses its answer (its caller is told), not the thread.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })
                .expect("a hashing thread");
        }
        Hashing {
            jobs,
            places: Arc::new(Semaphore::new(queue.max(1))),
        }
    }

    /// Runs `f` on a hashing thread and waits for it as a task; `Err(Full)` at once when the
    /// queue is full. `Ok(None)` if `f` failed unexpectedly.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<Option<T>, Full> {
        let place = self.places.clone().try_acquire_owned().map_err(|_| Full)?;
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let out = f();
            // The place is free before the answer arrives: whoever it wakes finds it free.
            drop(place);
            let _ = answer.send(out);
        });
        if self.jobs.send(job).is_err() {
            return Ok(None);
        }
        Ok(answered.await.ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a future to its end on this thread (the service layer has no runtime of its own).
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        struct Unpark(std::thread::Thread);
        impl std::task::Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = std::task::Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) {
                return out;
            }
            std::thread::park();
        }
    }

    #[test]
    fn jobs_run_on_the_hashing_threads_and_a_full_queue_is_refused() {
        block_on(jobs_run_and_a_full_queue_is_refused());
    }

    async fn jobs_run_and_a_full_queue_is_refused() {
        let hashing = Hashing::new(1, 2);
        let name = hashing
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert_eq!(name.flatten().as_deref(), Some("hashing-0"));
        assert_eq!(
            hashing.run(|| panic!("a failing job")).await.unwrap(),
            None::<()>
        );
        // The thread survived the panic.
        assert_eq!(hashing.run(|| 2 + 2).await.unwrap(), Some(4));
        // Two places: one job holds the thread, one waits, the third is refused.
        let (hold, held) = std::sync::mpsc::channel::<()>();
        let slow = hashing.run(move || held.recv().ok());
        let waiting = hashing.run(|| 1);
        let (slow, waiting) = (Box::pin(slow), Box::pin(waiting));
        // Poll both once so that they take their places.
        let mut slow = slow;
        let mut waiting = waiting;
        futures_util::future::poll_immediate(&mut slow).await;
        futures_util::future::poll_immediate(&mut waiting).await;
        assert!(hashing.run(|| 3).await.is_err(), "the queue is full");
        hold.send(()).unwrap();
        assert_eq!(slow.await.unwrap(), Some(Some(())));
        assert_eq!(waiting.await.unwrap(), Some(1));
    }
}
