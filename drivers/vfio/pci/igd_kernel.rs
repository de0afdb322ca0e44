// SPDX-License-Identifier: GPL-2.0

//! vfio-pci's Intel IGD support (`vfio_pci_igd.c`) on the kernel: the OpRegion and its
//! extended VBT mapped and served as one read-only region, its config address virtualized,
//! and the host and LPC bridges' config spaces read through two more regions. The rules are
//! in [`crate::igd`].

use crate::{
    ffi::{
        CoreDevice,
        DevRegion, //
    },
    igd::{
        self,
        Source, //
    },
    kernel_ext::{
        memremap::MemRemap,
        pci::{
            device_at,
            DeviceExt,
            DeviceFields,
            UserConfigRead, //
        },
        uaccess_ext::write_user_bytes,
        uapi,
    },
};
use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    pci,
    prelude::*,
    sync::aref::ARef, //
};

/// `PCI_VENDOR_ID_INTEL`.
const PCI_VENDOR_ID_INTEL: u16 = 0x8086;
/// `PCI_CLASS_BRIDGE_HOST << 8` and `PCI_CLASS_BRIDGE_ISA << 8`: the 24-bit class codes.
const CLASS_HOST_BRIDGE: u32 = 0x0600 << 8;
const CLASS_ISA_BRIDGE: u32 = 0x0601 << 8;
/// `PCI_DEVFN(0, 0)` and `PCI_DEVFN(0x1f, 0)`.
const HOST_DEVFN: u8 = 0;
const LPC_DEVFN: u8 = 0x1f << 3;
/// An Intel vendor-specific region type.
const INTEL_REGION: u32 = PCI_VENDOR_ID_INTEL as u32 | uapi::VFIO_REGION_TYPE_PCI_VENDOR_TYPE;

/// The OpRegion and its extended VBT, mapped.
struct OpRegion {
    opregion: MemRemap,
    vbt: Option<MemRemap>,
}

impl DevRegion for OpRegion {
    fn rw(&self, size: u64, pos: u64, buf: usize, count: usize, iswrite: bool) -> Result<usize> {
        let op = self.opregion.as_bytes();
        let version =
            u16::from_le_bytes([op[igd::VERSION as usize], op[igd::VERSION as usize + 1]]);
        let (pieces, n) =
            igd::opregion_read(size, pos, count, iswrite, version, self.vbt.is_some())?;
        let mut at = buf;
        for piece in pieces.iter().flatten() {
            let len = piece.len;
            match piece.src {
                Source::OpRegion(off) => {
                    let off = usize::try_from(off)?;
                    write_user_bytes(at, op.get(off..off + len).ok_or(EFAULT)?)?
                }
                Source::Patched(bytes, from) => write_user_bytes(at, &bytes[from..from + len])?,
                // A header whose size runs past the OpRegion with no extended VBT: upstream
                // would copy from a NULL VBT; nothing to read here.
                Source::Vbt(off) => {
                    let vbt = self.vbt.as_ref().ok_or(EFAULT)?.as_bytes();
                    let off = usize::try_from(off)?;
                    write_user_bytes(at, vbt.get(off..off + len).ok_or(EFAULT)?)?
                }
            }
            at += len;
        }
        Ok(n)
    }
}

/// A bridge's config space, read through (`vfio_pci_igd_cfg_rw`).
struct BridgeConfig(ARef<pci::Device>);

impl DevRegion for BridgeConfig {
    fn rw(&self, size: u64, pos: u64, buf: usize, count: usize, iswrite: bool) -> Result<usize> {
        let (steps, n) = igd::cfg_read_steps(size, pos, count, iswrite)?;
        let mut at = buf;
        for (off, width) in steps {
            let val = match width {
                1 => u32::from(self.0.user_read_config_byte(off)?),
                2 => u32::from(self.0.user_read_config_word(off)?),
                _ => self.0.user_read_config_dword(off)?,
            };
            write_user_bytes(at, &val.to_le_bytes()[..width])?;
            at += width;
        }
        Ok(n)
    }
}

/// `vfio_pci_igd_init`: the OpRegion region, then the bridges' (`ENODEV`: not all there, which
/// the open tolerates).
pub(crate) fn init(vdev: &CoreDevice) -> Result {
    opregion_init(vdev)?;
    bridges_init(vdev)
}

/// `vfio_pci_igd_opregion_init`.
fn opregion_init(vdev: &CoreDevice) -> Result {
    let addr = vdev
        .pdev_bound()
        .read_config_dword(igd::OPREGION_PCI_ADDR as u32)?;
    igd::check_asls(addr)?;
    // CAST: 8 KiB.
    let opregion = MemRemap::new(u64::from(addr), igd::OPREGION_SIZE as usize)?;
    let layout = igd::opregion_layout(opregion.as_bytes(), addr)?;
    let vbt = match layout.vbt {
        // CAST: A u32 length.
        Some((at, len)) => Some(MemRemap::new(at, len as usize)?),
        None => None,
    };
    let data = KBox::new(OpRegion { opregion, vbt }, GFP_KERNEL_ACCOUNT)?;
    vdev.register_dev_region(
        INTEL_REGION,
        uapi::VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION,
        usize::try_from(layout.size)?,
        uapi::VFIO_REGION_INFO_FLAG_READ,
        data,
    )?;
    // CAST: 0xfc.
    vdev.virtualize_config_dword(igd::OPREGION_PCI_ADDR as u8, layout.asls);
    Ok(())
}

/// `vfio_pci_igd_cfg_init`: the host bridge (00:00.0) and the LPC bridge (00:1f.0), both
/// Intel's, as read-only regions.
fn bridges_init(vdev: &CoreDevice) -> Result {
    for (devfn, class, subtype) in [
        (
            HOST_DEVFN,
            CLASS_HOST_BRIDGE,
            uapi::VFIO_REGION_SUBTYPE_INTEL_IGD_HOST_CFG,
        ),
        (
            LPC_DEVFN,
            CLASS_ISA_BRIDGE,
            uapi::VFIO_REGION_SUBTYPE_INTEL_IGD_LPC_CFG,
        ),
    ] {
        let bridge = device_at(0, 0, devfn).ok_or(ENODEV)?;
        if bridge.vendor_id().as_raw() != PCI_VENDOR_ID_INTEL
            || bridge.pci_class().as_raw() != class
        {
            return Err(EINVAL);
        }
        let size = bridge.config_size();
        let data = KBox::new(BridgeConfig(bridge), GFP_KERNEL_ACCOUNT)?;
        vdev.register_dev_region(
            INTEL_REGION,
            subtype,
            size,
            uapi::VFIO_REGION_INFO_FLAG_READ,
            data,
        )?;
    }
    Ok(())
}
