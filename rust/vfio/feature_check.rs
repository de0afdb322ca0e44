// SPDX-License-Identifier: GPL-2.0

//! `vfio_check_feature`, an inline of `include/linux/vfio.h` that drivers' `device_feature` ops
//! and the core's own features both use, as pure logic: kernel-independent, so the host build
//! tests it (through `drivers/vfio/feature_args.rs`).

/// `VFIO_DEVICE_FEATURE_MASK`: the feature index bits of `flags`.
pub(crate) const FEATURE_MASK: u32 = 0xffff;
/// `VFIO_DEVICE_FEATURE_GET`.
pub(crate) const FEATURE_GET: u32 = 1 << 16;
/// `VFIO_DEVICE_FEATURE_SET`.
pub(crate) const FEATURE_SET: u32 = 1 << 17;
/// `VFIO_DEVICE_FEATURE_PROBE`.
pub(crate) const FEATURE_PROBE: u32 = 1 << 18;

/// What `vfio_check_feature` tells a feature handler to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// A PROBE of a supported direction: return 0 without doing anything.
    Probe,
    /// Do the GET or SET.
    Run,
}

/// The arguments were refused: `EINVAL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Invalid;

/// `vfio_check_feature(flags, argsz, supported_ops, minsz)`: a direction the feature lacks is
/// refused (even with PROBE); PROBE succeeds; otherwise GET or SET is needed and the data must
/// be at least `minsz` bytes.
pub(crate) fn check_feature(
    flags: u32,
    argsz: usize,
    supported: u32,
    minsz: usize,
) -> Result<Action, Invalid> {
    if flags & (FEATURE_GET | FEATURE_SET) & !supported != 0 {
        return Err(Invalid);
    }
    if flags & FEATURE_PROBE != 0 {
        return Ok(Action::Probe);
    }
    if flags & (FEATURE_GET | FEATURE_SET) == 0 || argsz < minsz {
        return Err(Invalid);
    }
    Ok(Action::Run)
}
