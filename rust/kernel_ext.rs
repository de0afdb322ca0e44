// SPDX-License-Identifier: GPL-2.0

//! Crate root of vfio-rs's shared kernel abstractions: what the VFIO modules need that 7.3's
//! `kernel` crate lacks. Not a stable ABI: the modules are built together.
//!
//! Written as if it were a set of `rust/kernel` patches: with each module's own C ABI glue
//! (`drivers/vfio/ffi.rs` for `vfio.ko`), the only place in the project that touches raw
//! bindings, `extern "C"` or C helpers. Compiled once, as crate `vfio_rs_kernel_ext`, into the
//! library module `vfio_rs_kernel_ext.ko` (`rust/Kbuild`), which exports every global symbol it
//! defines; the other modules use it with `use vfio_rs_kernel_ext as kernel_ext;` and
//! `--extern vfio_rs_kernel_ext` (see `docs/design/shared-crate.md`).
//!
//! Rule: nothing compiled into this module may call an export of `vfio.ko` (or of any other
//! module of ours), or the library would depend on its own user. A function that does is
//! `#[inline]` or generic, so that it is codegenned in the module that calls it; `make check`
//! verifies `modinfo -F depends` of the library (`scripts/check-libmod`).

pub mod anon_file;
pub mod bindings;
pub mod bus;
pub mod cdev_fops;
pub mod cdev_node;
pub mod chrdev;
pub mod class;
pub mod class_compat;
pub mod counted;
pub mod dev_ext;
pub mod errno;
pub mod eventfd;
pub mod fd;
pub mod first_inline;
pub mod fops;
pub mod global;
pub mod guid;
pub mod helpers;
pub mod ida;
pub mod inline_vec;
pub mod interval_tree;
pub mod iommu;
pub mod iommu_domain;
pub mod iommufd;
pub mod iova_bitmap;
pub mod irq;
pub mod irq_bypass;
pub mod irq_flags;
pub mod kmalloc_box;
pub mod kobject;
pub mod kvm;
pub mod mdev;
pub mod mdev_driver;
pub mod memremap;
pub mod misc;
pub mod module_ref;
pub mod mutex;
pub mod param;
pub mod pci;
pub mod pfn_vma;
pub mod pfnmap;
pub mod rw_lock;
pub mod rwsem;
pub mod sysfs;
pub mod uaccess_ext;
pub mod uapi;
pub mod user_mm;
pub mod user_pages;
pub mod vfio;
pub mod workqueue_ext;

/// The library module: no state of its own, it only carries the layer's code and exports.
struct KernelExt;

impl kernel::Module for KernelExt {
    fn init(_module: &'static kernel::ThisModule) -> kernel::error::Result<Self> {
        Ok(KernelExt)
    }
}

kernel::prelude::module! {
    type: KernelExt,
    name: "vfio_rs_kernel_ext",
    authors: ["vfio-rs developers"],
    description: "vfio-rs shared Rust abstractions (library module)",
    license: "GPL v2",
    imports_ns: ["IOMMUFD", "IOMMUFD_VFIO"],
}
