// SPDX-License-Identifier: GPL-2.0

//! Static sysfs tables (attributes, attribute groups, `sysfs_ops`, `kobj_type`) and the page
//! buffers of `show`/`store` callbacks.
//!
//! C headers: [`include/linux/sysfs.h`](srctree/include/linux/sysfs.h),
//! [`include/linux/kobject.h`](srctree/include/linux/kobject.h).
//!
//! The tables are `const`-built statics that C reads through raw pointers and never writes;
//! the callbacks they name are the user's `unsafe extern "C"` trampolines.

use core::fmt;
use kernel::{
    bindings,
    prelude::*, //
};

/// `umode_t` of a read-only attribute (`__ATTR_RO`).
pub const MODE_RO: u16 = 0o444;
/// `umode_t` of a write-only attribute (`__ATTR_WO`).
pub const MODE_WO: u16 = 0o200;

/// A static `struct attribute`.
#[repr(transparent)]
pub struct Attribute(bindings::attribute);

// SAFETY: C only reads a static attribute; it holds no thread-bound state.
unsafe impl Sync for Attribute {}

impl Attribute {
    /// An attribute named `name` with permissions `mode`.
    pub const fn new(name: &'static CStr, mode: u16) -> Self {
        // SAFETY: All-zero is a valid `struct attribute` (null pointers, no lockdep key: a
        // static attribute needs none).
        let mut attr: bindings::attribute = unsafe { core::mem::zeroed() };
        // `CStrExt::as_char_ptr` is not `const`; this is the same pointer and cast.
        #[expect(
            clippy::disallowed_methods,
            reason = "`as_char_ptr` cannot be called in a const fn"
        )]
        let name_ptr = name.as_ptr();
        attr.name = name_ptr.cast();
        attr.mode = mode;
        Self(attr)
    }

    /// The raw attribute, for tables and for identifying the one a callback was called for.
    pub const fn as_ptr(&'static self) -> *const bindings::attribute {
        &self.0
    }

    /// Whether `attr` is this attribute.
    pub fn is(&'static self, attr: *const bindings::attribute) -> bool {
        core::ptr::eq(self.as_ptr(), attr)
    }

    /// Its mode, as an `is_visible` callback returns it.
    pub const fn mode(&self) -> u16 {
        self.0.mode
    }
}

/// `show` of a `struct device_attribute`.
pub type DeviceShow = unsafe extern "C" fn(
    *mut bindings::device,
    *mut bindings::device_attribute,
    *mut c_char,
) -> isize;
/// `store` of a `struct device_attribute`.
pub type DeviceStore = unsafe extern "C" fn(
    *mut bindings::device,
    *mut bindings::device_attribute,
    *const c_char,
    usize,
) -> isize;

/// A static `struct device_attribute`.
#[repr(transparent)]
pub struct DeviceAttribute(bindings::device_attribute);

// SAFETY: C only reads a static attribute.
unsafe impl Sync for DeviceAttribute {}

impl DeviceAttribute {
    /// A device attribute with the given callbacks (`DEVICE_ATTR_RO/WO/RW`).
    pub const fn new(
        name: &'static CStr,
        mode: u16,
        show: Option<DeviceShow>,
        store: Option<DeviceStore>,
    ) -> Self {
        Self(bindings::device_attribute {
            attr: Attribute::new(name, mode).0,
            __bindgen_anon_1: bindings::device_attribute__bindgen_ty_1 { show },
            __bindgen_anon_2: bindings::device_attribute__bindgen_ty_2 { store },
        })
    }

    /// A read-only device attribute shown by `S` (`DEVICE_ATTR_RO`).
    pub const fn read_only<S: DeviceAttrShow>(name: &'static CStr) -> Self {
        Self::new(name, MODE_RO, Some(device_show::<S>), None)
    }

    /// The raw device attribute.
    pub const fn as_ptr(&'static self) -> *const bindings::device_attribute {
        &self.0
    }

    /// Its embedded `struct attribute`, for attribute lists.
    pub const fn attr(&'static self) -> *const bindings::attribute {
        &self.0.attr
    }
}

/// A NULL-terminated array of `N - 1` attribute pointers (`struct attribute *attrs[]`).
#[repr(transparent)]
pub struct AttributeList<const N: usize>([*const bindings::attribute; N]);

// SAFETY: The pointers are to statics C only reads.
unsafe impl<const N: usize> Sync for AttributeList<N> {}

impl<const N: usize> AttributeList<N> {
    /// The list; the last entry must be null.
    ///
    /// # Panics
    ///
    /// At compile time (the tables are `const`), if the last entry is not null.
    pub const fn new(attrs: [*const bindings::attribute; N]) -> Self {
        assert!(attrs[N - 1].is_null());
        Self(attrs)
    }
}

/// `is_visible` of an attribute group.
pub type IsVisible =
    unsafe extern "C" fn(*mut bindings::kobject, *mut bindings::attribute, c_int) -> u16;

/// A static `struct attribute_group` without a sub-directory name.
#[repr(transparent)]
pub struct AttributeGroup(bindings::attribute_group);

// SAFETY: C only reads a static group.
unsafe impl Sync for AttributeGroup {}

impl AttributeGroup {
    /// The group of `attrs`, each shown when `is_visible` (if any) says so.
    pub const fn new<const N: usize>(
        attrs: &'static AttributeList<N>,
        is_visible: Option<IsVisible>,
    ) -> Self {
        // SAFETY: All-zero is a valid group (no name, no binary attributes).
        let mut group: bindings::attribute_group = unsafe { core::mem::zeroed() };
        group.__bindgen_anon_1 = bindings::attribute_group__bindgen_ty_1 { is_visible };
        group.__bindgen_anon_2 = bindings::attribute_group__bindgen_ty_2 {
            attrs_const: attrs.0.as_ptr(),
        };
        Self(group)
    }

    /// The group of `attrs` in the sub-directory `name` (e.g. an mdev's `vendor/`).
    pub const fn named<const N: usize>(
        name: &'static CStr,
        attrs: &'static AttributeList<N>,
    ) -> Self {
        let mut group = Self::new(attrs, None);
        #[expect(
            clippy::disallowed_methods,
            reason = "`as_char_ptr` cannot be called in a const fn"
        )]
        let name_ptr = name.as_ptr();
        group.0.name = name_ptr.cast();
        group
    }

    /// The raw group.
    pub const fn as_ptr(&'static self) -> *const bindings::attribute_group {
        &self.0
    }
}

/// A NULL-terminated array of group pointers (`const struct attribute_group *groups[]`).
#[repr(transparent)]
pub struct GroupList<const N: usize>([*const bindings::attribute_group; N]);

// SAFETY: The pointers are to statics C only reads.
unsafe impl<const N: usize> Sync for GroupList<N> {}

impl<const N: usize> GroupList<N> {
    /// The list; the last entry must be null.
    ///
    /// # Panics
    ///
    /// At compile time, if the last entry is not null.
    pub const fn new(groups: [*const bindings::attribute_group; N]) -> Self {
        assert!(groups[N - 1].is_null());
        Self(groups)
    }

    /// The raw list.
    pub const fn as_ptr(&'static self) -> *const *const bindings::attribute_group {
        self.0.as_ptr()
    }

    /// The list, whatever its length, for a driver's `dev_groups`.
    pub const fn groups(&'static self) -> Groups {
        Groups(self.0.as_ptr())
    }
}

/// A static NULL-terminated group list of any length (a [`GroupList`]'s address).
#[derive(Clone, Copy)]
pub struct Groups(*const *const bindings::attribute_group);

// SAFETY: It points to a static list C only reads.
unsafe impl Sync for Groups {}
// SAFETY: As above.
unsafe impl Send for Groups {}

impl Groups {
    /// The raw list.
    pub const fn as_ptr(self) -> *const *const bindings::attribute_group {
        self.0
    }
}

/// The `show` of a read-only device attribute, in Rust ([`DeviceAttribute::read_only`]).
pub trait DeviceAttrShow: 'static {
    /// Fills `buf` for `dev`; returns the length written or a negative errno.
    fn show(dev: &kernel::device::Device, buf: &mut ShowBuf) -> isize;
}

/// # Safety
///
/// Called by sysfs as the `show` of a device attribute: `dev` is a live device and `buf` its
/// page buffer for the call.
unsafe extern "C" fn device_show<S: DeviceAttrShow>(
    dev: *mut bindings::device,
    _attr: *mut bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: `dev` is live for the call (function contract).
    let dev = unsafe { kernel::device::Device::from_raw(dev) };
    // SAFETY: `buf` is the page buffer of this `show` call (function contract).
    let mut buf = unsafe { ShowBuf::from_raw(buf) };
    S::show(dev, &mut buf)
}

/// `show` of a `struct sysfs_ops`.
pub type KobjShow =
    unsafe extern "C" fn(*mut bindings::kobject, *mut bindings::attribute, *mut c_char) -> isize;
/// `store` of a `struct sysfs_ops`.
pub type KobjStore = unsafe extern "C" fn(
    *mut bindings::kobject,
    *mut bindings::attribute,
    *const c_char,
    usize,
) -> isize;
/// `release` of a `struct kobj_type`.
pub type KobjRelease = unsafe extern "C" fn(*mut bindings::kobject);

/// A static `struct sysfs_ops`.
#[repr(transparent)]
pub struct SysfsOps(bindings::sysfs_ops);

// SAFETY: C only reads a static ops table.
unsafe impl Sync for SysfsOps {}

impl SysfsOps {
    /// Ops dispatching every attribute of a ktype to `show`/`store`.
    pub const fn new(show: KobjShow, store: KobjStore) -> Self {
        Self(bindings::sysfs_ops {
            show: Some(show),
            store: Some(store),
        })
    }
}

/// A static `struct kobj_type`.
#[repr(transparent)]
pub struct KobjType(bindings::kobj_type);

// SAFETY: C only reads a static ktype.
unsafe impl Sync for KobjType {}

impl KobjType {
    /// A ktype whose default attributes (the `groups`) go through `ops`.
    pub const fn new<const N: usize>(
        ops: &'static SysfsOps,
        release: KobjRelease,
        groups: &'static GroupList<N>,
    ) -> Self {
        // SAFETY: All-zero is a valid ktype (no namespaces, default ownership).
        let mut ktype: bindings::kobj_type = unsafe { core::mem::zeroed() };
        ktype.release = Some(release);
        ktype.sysfs_ops = &ops.0;
        ktype.default_groups = groups.0.as_ptr().cast_mut();
        Self(ktype)
    }

    /// The raw ktype.
    pub const fn as_ptr(&'static self) -> *const bindings::kobj_type {
        &self.0
    }
}

/// The `PAGE_SIZE` buffer a `show` callback fills.
pub struct ShowBuf {
    buf: *mut c_char,
}

impl ShowBuf {
    /// Wraps the buffer sysfs passed to `show`.
    ///
    /// # Safety
    ///
    /// `buf` must be sysfs's page buffer of a `show` call (valid for `PAGE_SIZE` bytes of
    /// writes), used only for the duration of that call.
    pub unsafe fn from_raw(buf: *mut c_char) -> Self {
        Self { buf }
    }

    /// The raw buffer, for a C `show` callback that fills it itself.
    pub fn as_ptr(&mut self) -> *mut c_char {
        self.buf
    }

    /// `sysfs_emit(buf, ...)`: writes the formatted text, cut at `PAGE_SIZE - 1` bytes and
    /// NUL-terminated; returns the length written.
    pub fn emit(&mut self, args: fmt::Arguments<'_>) -> isize {
        let mut page = self.page();
        let _ = fmt::Write::write_fmt(&mut page, args);
        page.finish()
    }

    /// `sysfs_emit(buf, "%s\n", s)` for a byte string (not necessarily UTF-8).
    pub fn line(&mut self, s: &[u8]) -> isize {
        let mut page = self.page();
        page.put(s);
        page.put(b"\n");
        page.finish()
    }

    fn page(&mut self) -> Page<'_> {
        // SAFETY: By the type invariant `buf` is valid for `PAGE_SIZE` bytes and used by no
        // one else during the call.
        let page =
            unsafe { core::slice::from_raw_parts_mut(self.buf.cast::<u8>(), bindings::PAGE_SIZE) };
        Page { page, len: 0 }
    }
}

/// A `show` page being written, as `vscnprintf` does: truncated, room kept for the NUL.
struct Page<'a> {
    page: &'a mut [u8],
    len: usize,
}

impl Page<'_> {
    fn put(&mut self, s: &[u8]) {
        let room = self.page.len() - 1 - self.len;
        let n = s.len().min(room);
        self.page[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
    }

    fn finish(self) -> isize {
        self.page[self.len] = 0;
        // CAST: `len` is below `PAGE_SIZE`.
        self.len as isize
    }
}

impl fmt::Write for Page<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.put(s.as_bytes());
        Ok(())
    }
}

/// The bytes a `store` callback received.
///
/// # Safety
///
/// `buf` must be valid for reads of `count` bytes for the duration of the `store` call.
pub unsafe fn store_bytes<'a>(buf: *const c_char, count: usize) -> &'a [u8] {
    // SAFETY: As the function's contract says.
    unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) }
}
