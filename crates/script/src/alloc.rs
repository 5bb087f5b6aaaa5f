//! Per-runtime allocator that enforces the memory limit itself, so that a
//! refused allocation is always noticed even when the engine cannot report
//! it (the "out of memory" error object may itself fail to allocate, or the
//! failure may happen in a microtask whose exception is discarded).

use std::cell::Cell;
use std::rc::Rc;

use rquickjs::allocator::{Allocator, RustAllocator};

/// Accounting shared between the allocator and its sandbox.
#[derive(Debug)]
pub(crate) struct Budget {
    limit: usize,
    used: Cell<usize>,
    refused: Cell<bool>,
}

impl Budget {
    pub(crate) fn new(limit: usize) -> Rc<Self> {
        Rc::new(Budget { limit, used: Cell::new(0), refused: Cell::new(false) })
    }

    /// Whether an allocation was refused since the last [`Budget::reset`].
    pub(crate) fn refused(&self) -> bool {
        self.refused.get()
    }

    pub(crate) fn reset(&self) {
        self.refused.set(false);
    }

    fn admit(&self, current: usize, extra: usize) -> bool {
        if current.saturating_add(extra) > self.limit {
            self.refused.set(true);
            false
        } else {
            true
        }
    }
}

/// Same rounding as [`RustAllocator`]: sizes are multiples of 8 bytes.
fn rounded(size: usize) -> usize {
    size.div_ceil(8).saturating_mul(8)
}

pub(crate) struct LimitedAllocator {
    inner: RustAllocator,
    budget: Rc<Budget>,
}

impl LimitedAllocator {
    pub(crate) fn new(budget: Rc<Budget>) -> Self {
        LimitedAllocator { inner: RustAllocator, budget }
    }
}

// SAFETY: every pointer comes from (and goes back to) `RustAllocator`, which
// upholds the trait's contract; this wrapper only refuses some requests by
// returning null and keeps a count.
unsafe impl Allocator for LimitedAllocator {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        let used = self.budget.used.get();
        if !self.budget.admit(used, rounded(size)) {
            return std::ptr::null_mut();
        }
        let ptr = self.inner.alloc(size);
        if !ptr.is_null() {
            self.budget.used.set(used + unsafe { RustAllocator::usable_size(ptr) });
        }
        ptr
    }

    fn calloc(&mut self, count: usize, size: usize) -> *mut u8 {
        let Some(total) = count.checked_mul(size) else {
            self.budget.refused.set(true);
            return std::ptr::null_mut();
        };
        let used = self.budget.used.get();
        if !self.budget.admit(used, rounded(total)) {
            return std::ptr::null_mut();
        }
        let ptr = self.inner.calloc(count, size);
        if !ptr.is_null() {
            self.budget.used.set(used + unsafe { RustAllocator::usable_size(ptr) });
        }
        ptr
    }

    unsafe fn dealloc(&mut self, ptr: *mut u8) {
        let size = unsafe { RustAllocator::usable_size(ptr) };
        self.budget.used.set(self.budget.used.get().saturating_sub(size));
        unsafe { self.inner.dealloc(ptr) }
    }

    unsafe fn realloc(&mut self, ptr: *mut u8, new_size: usize) -> *mut u8 {
        let old = unsafe { RustAllocator::usable_size(ptr) };
        let rest = self.budget.used.get().saturating_sub(old);
        if !self.budget.admit(rest, rounded(new_size)) {
            return std::ptr::null_mut();
        }
        let new = unsafe { self.inner.realloc(ptr, new_size) };
        if !new.is_null() {
            self.budget.used.set(rest + unsafe { RustAllocator::usable_size(new) });
        }
        new
    }

    unsafe fn usable_size(ptr: *mut u8) -> usize {
        unsafe { RustAllocator::usable_size(ptr) }
    }
}
