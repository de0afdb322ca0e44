// SPDX-License-Identifier: GPL-2.0

//! `vfio_check_feature`, an inline of `include/linux/vfio.h` that drivers' `device_feature` ops
//! and the core's own features both use, as pure logic: kernel-independent, so the host build
//! tests it (through `drivers/vfio/feature_args.rs`).

/// `VFIO_DEVICE_FEATURE_MASK`: the feature index bits of `flags`.
pub const FEATURE_MASK: u32 = 0xffff;
/// `VFIO_DEVICE_FEATURE_GET`.
pub const FEATURE_GET: u32 = 1 << 16;
/// `VFIO_DEVICE_FEATURE_SET`.
pub const FEATURE_SET: u32 = 1 << 17;
/// `VFIO_DEVICE_FEATURE_PROBE`.
pub const FEATURE_PROBE: u32 = 1 << 18;

/// What `vfio_check_feature` tells a feature handler to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// A PROBE of a supported direction: return 0 without doing anything.
    Probe,
    /// Do the GET or SET.
    Run,
}

use crate::errno::Errno;

/// `vfio_check_feature(flags, argsz, supported_ops, minsz)`: a direction the feature lacks is
/// `EINVAL` (even with PROBE); PROBE succeeds; otherwise GET or SET is needed and the data must
/// be at least `minsz` bytes.
pub fn check_feature(
    flags: u32,
    argsz: usize,
    supported: u32,
    minsz: usize,
) -> Result<Action, Errno> {
    if flags & (FEATURE_GET | FEATURE_SET) & !supported != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & FEATURE_PROBE != 0 {
        return Ok(Action::Probe);
    }
    if flags & (FEATURE_GET | FEATURE_SET) == 0 || argsz < minsz {
        return Err(Errno::EINVAL);
    }
    Ok(Action::Run)
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: u32 = FEATURE_GET;
    const S: u32 = FEATURE_SET;
    const P: u32 = FEATURE_PROBE;

    #[test]
    fn feature_checks() {
        // A direction the feature lacks is refused even with PROBE.
        assert_eq!(check_feature(P | S, 0, G, 8), Err(Errno::EINVAL));
        assert_eq!(check_feature(P | G | S, 0, G, 8), Err(Errno::EINVAL));
        // PROBE ignores the size; so does PROBE alone.
        assert_eq!(check_feature(P | G, 0, G, 8), Ok(Action::Probe));
        assert_eq!(check_feature(P, 0, G, 8), Ok(Action::Probe));
        assert_eq!(check_feature(P | G | S, 0, G | S, 8), Ok(Action::Probe));
        // Without PROBE a direction and the size are needed.
        assert_eq!(check_feature(0, 100, G, 8), Err(Errno::EINVAL));
        assert_eq!(check_feature(G, 7, G, 8), Err(Errno::EINVAL));
        assert_eq!(check_feature(G, 8, G, 8), Ok(Action::Run));
        assert_eq!(check_feature(S, 0, S, 0), Ok(Action::Run));
    }
}
