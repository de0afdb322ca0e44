// SPDX-License-Identifier: GPL-2.0

//! Module parameters that are writable at run time through sysfs, as C's `module_param_named`
//! with a mode makes them (the kernel crate's `module!` parameters are load-time only).
//!
//! C header: [`include/linux/moduleparam.h`](srctree/include/linux/moduleparam.h).

use core::{
    cell::UnsafeCell,
    sync::atomic::{
        AtomicBool,
        AtomicU32,
        Ordering, //
    },
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

/// A load-time string parameter of `N` bytes (C's `module_param_string` with mode 0): the
/// module loader copies the value given at load (NUL-terminated, at most `N - 1` bytes, longer
/// is refused) into it before the module's `init` runs; with mode 0 there is no sysfs file, so
/// nothing writes it afterwards.
#[repr(transparent)]
pub struct StringParam<const N: usize>(UnsafeCell<[u8; N]>);

// SAFETY: Only the module loader writes the buffer, before `init` and before any reader exists
// (mode 0: no sysfs writer); afterwards it is only read.
unsafe impl<const N: usize> Sync for StringParam<N> {}

impl<const N: usize> StringParam<N> {
    /// An empty parameter.
    pub const fn new() -> Self {
        Self(UnsafeCell::new([0; N]))
    }

    /// The value, up to its NUL.
    pub fn value(&self) -> &[u8] {
        // SAFETY: Nothing writes the buffer once the module runs (type invariant).
        let buf = unsafe { &*self.0.get() };
        let len = buf.iter().position(|&b| b == 0).unwrap_or(N);
        &buf[..len]
    }
}

impl<const N: usize> Default for StringParam<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// The `struct kparam_string` of a [`StringParam`]: its size and buffer for `param_ops_string`.
#[repr(transparent)]
pub struct KparamString(bindings::kparam_string);

// SAFETY: Read by the module loader only; it points to the parameter's static buffer.
unsafe impl Sync for KparamString {}

impl KparamString {
    /// The descriptor of `param`.
    pub const fn new<const N: usize>(param: &'static StringParam<N>) -> Self {
        Self(bindings::kparam_string {
            // CAST: A module parameter's buffer is far below 4 GiB.
            maxlen: N as u32,
            string: param.0.get().cast(),
        })
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

    /// The entry of a string parameter (`param_ops_string`), load-time only (mode 0).
    pub const fn of_string(
        name: &'static CStr,
        module: &'static ThisModule,
        desc: &'static KparamString,
    ) -> Self {
        // Only the address of the C ops table is taken.
        let ops = &raw const bindings::param_ops_string;
        // The union's `str` member; `arg` is the same pointer.
        Self::new(
            name,
            module,
            ops,
            core::ptr::from_ref(desc).cast_mut().cast(),
            0,
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

/// Declares a load-time string parameter of `LEN` bytes, as C's
/// `module_param_string(NAME, NAME, LEN, 0)`:
/// `module_param_string!(static NAME: LEN, "description");` creating `static NAME` (a
/// [`StringParam`]), its `__param` entry and the `parmtype` (`string`)/`parm` modinfo lines.
#[macro_export]
macro_rules! module_param_string {
    ($(#[$meta:meta])* static $name:ident: $len:expr, $desc:literal;) => {
        $(#[$meta])*
        #[allow(non_upper_case_globals)]
        pub(crate) static $name: $crate::param::StringParam<{ $len }> =
            $crate::param::StringParam::new();

        const _: () = {
            static DESC: $crate::param::KparamString = $crate::param::KparamString::new(&$name);

            #[link_section = "__param"]
            #[used(compiler)]
            static ENTRY: $crate::param::ParamEntry = $crate::param::ParamEntry::of_string(
                kernel::c_str!(stringify!($name)),
                kernel::module::this_module::<LocalModule>(),
                &DESC,
            );

            const PARMTYPE: &str = concat!("parmtype=", stringify!($name), ":string\0");
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static PARMTYPE_INFO: [u8; PARMTYPE.len()] = $crate::param::modinfo(PARMTYPE);

            const PARM: &str = concat!("parm=", stringify!($name), ":", $desc, "\0");
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static PARM_INFO: [u8; PARM.len()] = $crate::param::modinfo(PARM);
        };
    };
}
pub use crate::module_param_string;
