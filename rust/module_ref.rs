// SPDX-License-Identifier: GPL-2.0

//! A counted reference on another module (`try_module_get`/`module_put`).
//!
//! C headers: [`include/linux/module.h`](srctree/include/linux/module.h).

use kernel::bindings;

/// Keeps a module from unloading while its code may still be called.
///
/// # Invariants
///
/// `module` is null (built-in code) or a module on which this object holds one reference taken
/// with `try_module_get`.
pub struct ModuleRef {
    module: *mut bindings::module,
}

// SAFETY: A module reference may be dropped (`module_put`) from any thread.
unsafe impl Send for ModuleRef {}
// SAFETY: No `&self` method exists.
unsafe impl Sync for ModuleRef {}

impl ModuleRef {
    /// Takes a reference on `module`; `None` if the module is going away.
    ///
    /// # Safety
    ///
    /// `module` must be null or point to a module that is live or being unloaded (not freed).
    pub unsafe fn try_get(module: *mut bindings::module) -> Option<Self> {
        // SAFETY: The caller guarantees `module` is null or not freed; `try_module_get` accepts
        // both and fails for a module on its way out.
        if unsafe { bindings::try_module_get(module) } {
            // INVARIANT: The reference was just taken.
            Some(Self { module })
        } else {
            None
        }
    }
}

impl Drop for ModuleRef {
    fn drop(&mut self) {
        // SAFETY: By the type invariant this object owns one reference on `module`.
        unsafe { bindings::module_put(self.module) };
    }
}
