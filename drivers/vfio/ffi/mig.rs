// SPDX-License-Identifier: GPL-2.0

//! Exports for migration drivers: the state machine step (`vfio_mig_get_next_state`) and the
//! IOVA range shrinking for dirty tracking (`vfio_combine_iova_ranges`). Thin wrappers around
//! the pure logic in `drivers/vfio/mig_state.rs` and `drivers/vfio/iova_combine.rs`; the
//! `EXPORT_SYMBOL_GPL`s are in `drivers/vfio/vfio_exports.c`.

use crate::{
    iova_combine::{
        self,
        RangeCursor, //
    },
    kernel_ext::{
        bindings,
        interval_tree::IntervalTreeCursor,
        uapi,
        vfio::device::RawDevice, //
    },
    mig_state::{
        self,
        MigError, //
    },
};
use core::{
    ptr::NonNull,
    sync::atomic::{
        AtomicBool,
        Ordering, //
    },
};
use kernel::prelude::*;

// The pure logic spells the uapi values out; they must be the target's.
const _: () = {
    assert!(mig_state::ERROR == uapi::vfio_device_mig_state_VFIO_DEVICE_STATE_ERROR);
    assert!(mig_state::STOP == uapi::vfio_device_mig_state_VFIO_DEVICE_STATE_STOP);
    assert!(mig_state::RUNNING == uapi::vfio_device_mig_state_VFIO_DEVICE_STATE_RUNNING);
    assert!(mig_state::STOP_COPY == uapi::vfio_device_mig_state_VFIO_DEVICE_STATE_STOP_COPY);
    assert!(mig_state::RESUMING == uapi::vfio_device_mig_state_VFIO_DEVICE_STATE_RESUMING);
    assert!(mig_state::RUNNING_P2P == uapi::vfio_device_mig_state_VFIO_DEVICE_STATE_RUNNING_P2P);
    assert!(mig_state::PRE_COPY == uapi::vfio_device_mig_state_VFIO_DEVICE_STATE_PRE_COPY);
    assert!(mig_state::PRE_COPY_P2P == uapi::vfio_device_mig_state_VFIO_DEVICE_STATE_PRE_COPY_P2P);
    assert!(mig_state::NUM_STATES == mig_state::PRE_COPY_P2P + 1);
    assert!(mig_state::MIGRATION_STOP_COPY == uapi::VFIO_MIGRATION_STOP_COPY);
    assert!(mig_state::MIGRATION_P2P == uapi::VFIO_MIGRATION_P2P);
    assert!(mig_state::MIGRATION_PRE_COPY == uapi::VFIO_MIGRATION_PRE_COPY);
};

/// `int vfio_mig_get_next_state(struct vfio_device *device, enum vfio_device_mig_state
/// cur_fsm, enum vfio_device_mig_state new_fsm, enum vfio_device_mig_state *next_fsm)`:
/// 0 with the next step in `*next_fsm`, or `-EINVAL` (warning when `cur_fsm` is bad, and
/// with `*next_fsm = VFIO_DEVICE_STATE_ERROR` when no path leads to `new_fsm`).
///
/// # Safety
///
/// `device` must be a live device and `next_fsm` valid for writes.
#[no_mangle]
unsafe extern "C" fn vfio_mig_get_next_state(
    device: *mut bindings::vfio_device,
    cur_fsm: bindings::vfio_device_mig_state,
    new_fsm: bindings::vfio_device_mig_state,
    next_fsm: *mut bindings::vfio_device_mig_state,
) -> c_int {
    // SAFETY: Per the function contract.
    let flags = unsafe { RawDevice::from_raw(device) }.migration_flags();
    let next = match mig_state::next_state(flags, cur_fsm, new_fsm) {
        Ok(next) => next,
        Err(MigError::BadCurrent) => {
            kernel::warn_on!(true);
            return EINVAL.to_errno();
        }
        Err(MigError::BadNew) => return EINVAL.to_errno(),
        Err(MigError::Blocked) => {
            // SAFETY: Writable per the function contract.
            unsafe { *next_fsm = mig_state::ERROR };
            return EINVAL.to_errno();
        }
    };
    // SAFETY: Writable per the function contract.
    unsafe { *next_fsm = next };
    0
}

impl RangeCursor for IntervalTreeCursor<'_> {
    fn rewind(&mut self) -> bool {
        IntervalTreeCursor::rewind(self)
    }
    fn advance(&mut self) -> bool {
        IntervalTreeCursor::advance(self)
    }
    fn start(&self) -> usize {
        IntervalTreeCursor::start(self)
    }
    fn last(&self) -> usize {
        IntervalTreeCursor::last(self)
    }
    fn set_last(&mut self, last: usize) {
        IntervalTreeCursor::set_last(self, last)
    }
    fn remove_and_advance(&mut self) -> bool {
        IntervalTreeCursor::remove_and_advance(self)
    }
}

/// Upstream's two `WARN_ON_ONCE` sites in `vfio_combine_iova_ranges`: an empty tree when one
/// range is asked for, and nothing left to merge otherwise; each warns once per module life.
static WARNED: [AtomicBool; 2] = [AtomicBool::new(false), AtomicBool::new(false)];

/// `void vfio_combine_iova_ranges(struct rb_root_cached *root, u32 cur_nodes, u32
/// req_nodes)`: merges the closest neighbouring ranges of `root` until `req_nodes` remain.
/// Removed nodes stay allocated (they are the caller's).
///
/// # Safety
///
/// `root` must be a valid interval tree the caller does not touch during the call.
#[no_mangle]
unsafe extern "C" fn vfio_combine_iova_ranges(
    root: *mut bindings::rb_root_cached,
    cur_nodes: u32,
    req_nodes: u32,
) {
    let Some(root) = NonNull::new(root) else {
        return;
    };
    // SAFETY: Per the function contract; nodes belong to the caller and outlive the call.
    let mut cursor = unsafe { IntervalTreeCursor::new(root) };
    if iova_combine::combine(&mut cursor, cur_nodes, req_nodes).is_err() {
        let site = &WARNED[usize::from(req_nodes != 1)];
        if !site.swap(true, Ordering::Relaxed) {
            kernel::warn_on!(true);
        }
    }
}
