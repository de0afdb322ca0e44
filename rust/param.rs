// SPDX-License-Identifier: GPL-2.0

//! Module parameters that are writable at run time through sysfs, as C's `module_param_named`
//! with a mode makes them (the kernel crate's `module!` parameters are load-time only).
//!
//! C header: [`include/linux/moduleparam.h`](srctree/include/linux/moduleparam.h).

use core::sync::atomic::{
    AtomicBool,
    AtomicU32,
    Ordering, //
};
use kernel::{
    bindings,
    module::ThisModule,
    prelude::*, //
};

/// A `bool` parameter. C's `param_ops_bool` stores to it as a plain `bool`, which `AtomicBool`
/// matches in layout; reads here are atomic.
#[repr(transparent)]
pub struct BoolParam(AtomicBool);

impl BoolParam {
    /// A parameter with its default.
    pub const fn new(default: bool) -> Self {
        Self(AtomicBool::new(default))
    }

    /// The current value.
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A `uint` parameter (`param_ops_uint`), laid out as C's `unsigned int`.
#[repr(transparent)]
pub struct UintParam(AtomicU32);

impl UintParam {
    /// A parameter with its default.
    pub const fn new(default: u32) -> Self {
        Self(AtomicU32::new(default))
    }

    /// The current value.
    pub fn get(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }
}

/// One `struct kernel_param` of the `__param` section.
#[repr(transparent)]
pub struct ParamEntry(bindings::kernel_param);

// SAFETY: The entry is only read by the module loader and sysfs; its pointers are to the
// module, to static ops and to the parameter's static storage.
unsafe impl Sync for ParamEntry {}

impl ParamEntry {
    const fn new(
        name: &'static CStr,
        module: &'static ThisModule,
        ops: *const bindings::kernel_param_ops,
        arg: *mut c_void,
        perm: u16,
    ) -> Self {
        #[expect(clippy::disallowed_methods, reason = "`as_char_ptr` is not a const fn")]
        let name = name.as_ptr().cast();
        Self(bindings::kernel_param {
            name,
            mod_: module.as_ptr(),
            ops,
            perm,
            level: -1,
            flags: 0,
            __bindgen_anon_1: bindings::kernel_param__bindgen_ty_1 { arg },
        })
    }

    /// The entry of a `bool` parameter with sysfs mode `perm`.
    pub const fn of_bool(
        name: &'static CStr,
        module: &'static ThisModule,
        param: &'static BoolParam,
        perm: u16,
    ) -> Self {
        // Only the address of the C ops table is taken.
        let ops = &raw const bindings::param_ops_bool;
        Self::new(
            name,
            module,
            ops,
            core::ptr::from_ref(param).cast_mut().cast(),
            perm,
        )
    }

    /// The entry of a `uint` parameter with sysfs mode `perm`.
    pub const fn of_uint(
        name: &'static CStr,
        module: &'static ThisModule,
        param: &'static UintParam,
        perm: u16,
    ) -> Self {
        // Only the address of the C ops table is taken.
        let ops = &raw const bindings::param_ops_uint;
        Self::new(
            name,
            module,
            ops,
            core::ptr::from_ref(param).cast_mut().cast(),
            perm,
        )
    }
}

/// The bytes of `s` as a `.modinfo` entry of length `N` (`s.len()`, which must end in NUL).
pub const fn modinfo<const N: usize>(s: &str) -> [u8; N] {
    let b = s.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N && i < b.len() {
        out[i] = b[i];
        i += 1;
    }
    out
}

/// Declares a run-time writable module parameter:
/// `module_param_rw!(static NAME: bool|uint = DEFAULT, PERM, "description");`
/// creating `static NAME` (a [`BoolParam`] or [`UintParam`]), its `__param` entry and the
/// `parmtype`/`parm` modinfo lines `modinfo` shows.
#[macro_export]
macro_rules! module_param_rw {
    (@entry bool, $name:ident, $perm:expr) => {
        $crate::param::ParamEntry::of_bool(
            kernel::c_str!(stringify!($name)),
            kernel::module::this_module::<LocalModule>(),
            &$name,
            $perm,
        )
    };
    (@entry uint, $name:ident, $perm:expr) => {
        $crate::param::ParamEntry::of_uint(
            kernel::c_str!(stringify!($name)),
            kernel::module::this_module::<LocalModule>(),
            &$name,
            $perm,
        )
    };
    (@store bool) => { $crate::param::BoolParam };
    (@store uint) => { $crate::param::UintParam };
    ($(#[$meta:meta])* static $name:ident: $kind:ident = $default:expr, $perm:expr, $desc:literal;) => {
        $(#[$meta])*
        #[allow(non_upper_case_globals)]
        pub(crate) static $name: $crate::module_param_rw!(@store $kind) =
            <$crate::module_param_rw!(@store $kind)>::new($default);

        const _: () = {
            #[link_section = "__param"]
            #[used(compiler)]
            static ENTRY: $crate::param::ParamEntry =
                $crate::module_param_rw!(@entry $kind, $name, $perm);

            const PARMTYPE: &str = concat!("parmtype=", stringify!($name), ":", stringify!($kind), "\0");
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static PARMTYPE_INFO: [u8; PARMTYPE.len()] =
                $crate::param::modinfo(PARMTYPE);

            const PARM: &str = concat!("parm=", stringify!($name), ":", $desc, "\0");
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static PARM_INFO: [u8; PARM.len()] = $crate::param::modinfo(PARM);
        };
    };
}
pub use crate::module_param_rw;
