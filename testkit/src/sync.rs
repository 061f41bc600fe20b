//! Lock helpers.

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex, ignoring poisoning (a panicked test thread must not wedge a server).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
