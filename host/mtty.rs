// SPDX-License-Identifier: GPL-2.0

//! The pure logic of the mtty sample (`samples/vfio-mdev/`, a Rust rewrite of upstream's
//! `samples/vfio-mdev/mtty.c`), laid out as the sample's crate root will declare it
//! (sibling modules), so the files' `super::` paths work in both builds.

#[path = "../samples/vfio-mdev/mtty_config.rs"]
pub mod mtty_config;
#[path = "../samples/vfio-mdev/mtty_irq.rs"]
pub mod mtty_irq;
#[path = "../samples/vfio-mdev/mtty_mig.rs"]
pub mod mtty_mig;
#[path = "../samples/vfio-mdev/mtty_uart.rs"]
pub mod mtty_uart;

#[cfg(test)]
#[path = "mtty_model.rs"]
mod model;
