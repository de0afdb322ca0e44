// SPDX-License-Identifier: GPL-2.0
/*
 * mdev.ko's C ABI: exports the Rust #[no_mangle] functions of ffi.rs under
 * upstream's names with upstream's plain EXPORT_SYMBOL, <linux/mdev.h> in
 * scope so the compiler checks each prototype, plus the module metadata the
 * Rust module! macro cannot express.
 */
#include <linux/module.h>
#include <linux/mdev.h>

EXPORT_SYMBOL(mdev_register_parent);
EXPORT_SYMBOL(mdev_unregister_parent);
EXPORT_SYMBOL(mdev_register_driver);
EXPORT_SYMBOL(mdev_unregister_driver);

MODULE_VERSION("0.1");
