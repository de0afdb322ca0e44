// SPDX-License-Identifier: GPL-2.0

//! KVM VMs as other subsystems see them: `struct kvm` pointers KVM hands out, and references
//! taken on them through `symbol_get`, because KVM may be a module that is absent or loads
//! later (a direct call would make the caller depend on it).
//!
//! C header: [`include/linux/kvm_host.h`](srctree/include/linux/kvm_host.h).

use crate::bindings;
use core::ptr::NonNull;
use kernel::prelude::*;

/// Whether the target kernel has KVM (`IS_ENABLED(CONFIG_KVM)`). Without it upstream compiles
/// the reference taking out; code paths test this constant so both variants always compile.
pub const ENABLED: bool = cfg!(CONFIG_KVM);

/// A VM pointer as KVM passed it: only stored, compared and handed on, never dereferenced.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct KvmPtr(*mut bindings::kvm);

// SAFETY: The pointer is an opaque token here; using it is guarded where it is dereferenced.
unsafe impl Send for KvmPtr {}
// SAFETY: As above.
unsafe impl Sync for KvmPtr {}

impl KvmPtr {
    /// No VM.
    pub const NULL: Self = Self(core::ptr::null_mut());

    /// Wraps a pointer received from C.
    pub fn from_raw(kvm: *mut bindings::kvm) -> Self {
        Self(kvm)
    }

    /// The pointer, for C.
    pub fn as_raw(self) -> *mut bindings::kvm {
        self.0
    }
}

/// `void kvm_put_kvm(struct kvm *)`, as found by `symbol_get`.
pub type PutKvmFn = unsafe extern "C" fn(*mut bindings::kvm);

/// `bool kvm_get_kvm_safe(struct kvm *)`.
type GetKvmSafeFn = unsafe extern "C" fn(*mut bindings::kvm) -> bool;

const PUT_KVM: &CStr = c"kvm_put_kvm";
const GET_KVM_SAFE: &CStr = c"kvm_get_kvm_safe";

/// A reference on a VM plus a module reference on `kvm_put_kvm` (which keeps KVM loaded until
/// the VM reference is dropped), as upstream's `vfio_device_get_kvm_safe` takes them. The
/// owner stores both parts where C expects them and gives them back to [`put`].
pub struct KvmRef {
    /// The VM.
    pub kvm: NonNull<bindings::kvm>,
    /// `kvm_put_kvm`, pinned.
    pub put: PutKvmFn,
}

/// Takes a reference on `kvm` unless the VM is already being destroyed; `None` then, and
/// also (with a warning) if KVM's symbols cannot be found although a VM exists.
///
/// # Safety
///
/// `kvm` must be null or a VM whose memory stays valid during the call (KVM keeps a VM it
/// registered with `vfio_file_set_kvm` alive until it unregisters it, which the caller's lock
/// excludes).
pub unsafe fn get_safe(kvm: KvmPtr) -> Option<KvmRef> {
    let kvm = NonNull::new(kvm.0)?;
    // SAFETY: Looking a symbol up by a NUL-terminated name; a hit pins its module.
    let put = unsafe { bindings::__symbol_get(PUT_KVM.as_char_ptr()) };
    if kernel::warn_on!(put.is_null()) {
        return None;
    }
    // SAFETY: As above.
    let get = unsafe { bindings::__symbol_get(GET_KVM_SAFE.as_char_ptr()) };
    if kernel::warn_on!(get.is_null()) {
        // SAFETY: Drops the module reference `__symbol_get` took for `PUT_KVM` above.
        unsafe { bindings::__symbol_put(PUT_KVM.as_char_ptr()) };
        return None;
    }
    // SAFETY: Non-null results of `__symbol_get` for these names are KVM's functions with
    // these signatures (`include/linux/kvm_host.h`).
    let (put, get) = unsafe {
        (
            core::mem::transmute::<*mut c_void, PutKvmFn>(put),
            core::mem::transmute::<*mut c_void, GetKvmSafeFn>(get),
        )
    };
    // SAFETY: `kvm` is valid per the function contract.
    let ok = unsafe { get(kvm.as_ptr()) };
    // SAFETY: Drops the module reference taken for `GET_KVM_SAFE` above.
    unsafe { bindings::__symbol_put(GET_KVM_SAFE.as_char_ptr()) };
    if !ok {
        // SAFETY: Drops the module reference taken for `PUT_KVM` above.
        unsafe { bindings::__symbol_put(PUT_KVM.as_char_ptr()) };
        return None;
    }
    Some(KvmRef { kvm, put })
}

/// Drops a reference [`get_safe`] took, then the module reference on `kvm_put_kvm`.
///
/// # Safety
///
/// `kvm` and `put` must be the parts of a [`KvmRef`] that was not put yet.
pub unsafe fn put(kvm: NonNull<bindings::kvm>, put: PutKvmFn) {
    // SAFETY: The caller owns a VM reference taken by `get_safe`, and `put` is `kvm_put_kvm`,
    // still loaded because of the module reference dropped below.
    unsafe { put(kvm.as_ptr()) };
    // SAFETY: Drops the module reference `get_safe` kept for `PUT_KVM`.
    unsafe { bindings::__symbol_put(PUT_KVM.as_char_ptr()) };
}
