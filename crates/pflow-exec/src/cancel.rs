//! A flag that stops a run from another thread (Ctrl-C, a supervisor).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A shared stop flag: once set, a run stops before its next node, and a running shell
/// command is killed with its whole process group.
///
/// Clones share the flag. A signal handler can set it through [`CancelFlag::shared`]
/// (for example with `signal_hook::flag::register`).
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// A flag that is not set.
    pub fn new() -> CancelFlag {
        CancelFlag::default()
    }

    /// Asks every run holding this flag to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`cancel`](CancelFlag::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Sleeps for `duration` or until the flag is set, whichever comes first; true when
    /// the whole time passed.
    pub fn sleep(&self, duration: Duration) -> bool {
        let until = Instant::now() + duration;
        loop {
            if self.is_cancelled() {
                return false;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            // Short naps: a set flag is seen within one of them.
            std::thread::sleep(left.min(Duration::from_millis(20)));
        }
    }

    /// The underlying atomic, for code that sets it directly (a signal handler).
    pub fn shared(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0)
    }
}

impl From<Arc<AtomicBool>> for CancelFlag {
    fn from(flag: Arc<AtomicBool>) -> CancelFlag {
        CancelFlag(flag)
    }
}
