// SPDX-License-Identifier: GPL-2.0

//! SR-IOV in the core, as upstream's `vfio_pci_core.c`: PFs get a VF token (a UUID the user
//! sets, shared by whoever opens the PF and its VFs, which proves they cooperate), VFs created
//! through a PF bound here come up with `driver_override` set to the PF's driver, and
//! `vfio_pci_core_sriov_configure` enables them. Also the device name matching of
//! `VFIO_GROUP_GET_DEVICE_FD` with its `vf_token=` option.
//!
//! Lock order: the PF list (`vfio_pci_sriov_pfs_mutex`) and a token's lock are leaves, taken
//! under the device set's lock at open and close, never around anything else.

use crate::{
    enable::set_power_state,
    ffi::CoreDev,
    kernel_ext::{
        global::module_mutex,
        guid::{
            generate_uuid,
            parse_uuid,
            Uuid,
            UUID_STRING_LEN, //
        },
        pci::{
            sriov::{
                SriovExt,
                SriovPfExt, //
            },
            DeviceFields, PowerState,
        },
        vfio::driver::check_feature,
    },
};
use kernel::{
    new_mutex, pci,
    prelude::*,
    sync::{
        aref::ARef,
        Arc,
        Mutex, //
    },
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

/// A PF's VF token (`struct vfio_pci_vf_token`).
#[pin_data]
pub(crate) struct VfToken {
    #[pin]
    inner: Mutex<TokenState>,
}

struct TokenState {
    uuid: Uuid,
    /// Open VFs of the PF (counted at their first open).
    users: u32,
}

impl VfToken {
    fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                inner <- new_mutex!(TokenState {
                    uuid: generate_uuid(),
                    users: 0
                }),
            }),
            GFP_KERNEL,
        )
    }
}

/// A device's place in SR-IOV, decided at registration.
#[derive(Clone, Default)]
pub(crate) enum Role {
    /// Neither, or a VF whose PF is not bound here.
    #[default]
    None,
    /// A PF: its token.
    Pf(Arc<VfToken>),
    /// A VF of a PF bound here: the PF's token (upstream's `sriov_pf_core_dev->vf_token`).
    Vf(Arc<VfToken>),
}

/// A PF that has VFs enabled through [`configure`] (`vfio_pci_sriov_pfs`).
pub(crate) struct ActivePf {
    pdev: ARef<pci::Device>,
    token: Arc<VfToken>,
}

module_mutex! {
    /// The PFs with VFs enabled through the core.
    static sriov_pfs: KVec<ActivePf> = KVec::new();
}

/// Module init: the PF list's lock.
pub(crate) fn init() {
    sriov_pfs::init();
}

fn same(a: &pci::Device, b: &pci::Device) -> bool {
    core::ptr::eq(a, b)
}

/// `vfio_pci_vf_init`: a VF finds its PF's token; a PF gets a token and watches for its VFs.
pub(crate) fn vf_init(vdev: &CoreDev) -> Result {
    let pdev = vdev.pdev();
    let role = if pdev.is_virtfn() {
        let pf = pdev.physfn();
        let list = sriov_pfs::lock();
        match list.iter().find(|p| same(&p.pdev, &pf)) {
            Some(p) => Role::Vf(p.token.clone()),
            None => Role::None,
        }
    } else if pdev.is_physfn() {
        let token = VfToken::new()?;
        vdev.register_bus_notifier()?;
        Role::Pf(token)
    } else {
        Role::None
    };
    *vdev.state().sriov.lock() = role;
    Ok(())
}

/// `vfio_pci_vf_uninit`.
pub(crate) fn vf_uninit(vdev: &CoreDev) {
    let role = core::mem::take(&mut *vdev.state().sriov.lock());
    if let Role::Pf(token) = role {
        vdev.unregister_bus_notifier();
        kernel::warn_on!(token.inner.lock().users != 0);
    }
}

/// The PCI bus notifier of a PF (`vfio_pci_bus_notifier`): its new VFs get the PF's driver
/// as `driver_override`; a VF bound elsewhere is reported.
pub(crate) fn bus_event(vdev: &CoreDev, added: bool, bound: bool, dev: &pci::Device) {
    let pf = vdev.pdev();
    if !dev.is_virtfn() || !same(&dev.physfn(), pf) {
        return;
    }
    if added {
        dev_info!(
            pf.as_ref(),
            "Captured SR-IOV VF {} driver_override\n",
            dev.as_ref().name()
        );
        kernel::warn_on!(dev.set_driver_override(vdev.ops_name()).is_err());
    } else if bound {
        if let (Some(vf_drv), Some(pf_drv)) = (dev.driver_name(), pf.driver_name()) {
            if vf_drv != pf_drv {
                dev_warn!(
                    pf.as_ref(),
                    "VF {} bound to driver {} while PF bound to driver {}\n",
                    dev.as_ref().name(),
                    vf_drv,
                    pf_drv
                );
            }
        }
    }
}

/// `vfio_pci_core_sriov_configure`: enables `nr_virtfn` VFs (0: disables them).
pub(crate) fn configure(vdev: &CoreDev, nr_virtfn: i32) -> Result<i32> {
    let pdev = vdev.pdev();
    if nr_virtfn != 0 {
        let token = match &*vdev.state().sriov.lock() {
            Role::Pf(t) => t.clone(),
            // Only PFs have `sriov_configure` called.
            _ => return Err(EINVAL),
        };
        {
            let mut list = sriov_pfs::lock();
            // Only the caller that listed the PF enables SR-IOV, once until it is disabled.
            if list.iter().any(|p| same(&p.pdev, pdev)) {
                return Err(EINVAL);
            }
            list.push(
                ActivePf {
                    pdev: pdev.into(),
                    token,
                },
                GFP_KERNEL,
            )?;
        }
        // The PF must be in a higher power state than its VFs.
        let r = vdev.pm_runtime_resume_and_get().and_then(|()| {
            {
                let _held = vdev.memory_lock().write();
                let _ = set_power_state(vdev, PowerState::D0);
                vdev.set_sriov_active(true);
            }
            pdev.enable_sriov(nr_virtfn)
                .inspect_err(|_| vdev.pm_runtime_put())
        });
        match r {
            Ok(()) => return Ok(nr_virtfn),
            Err(e) => {
                unlist(vdev);
                return Err(e);
            }
        }
    }
    if pdev.num_vf() != 0 {
        pdev.disable_sriov();
        vdev.pm_runtime_put();
    }
    unlist(vdev);
    Ok(0)
}

/// `out_del`: SR-IOV off, the PF out of the list.
fn unlist(vdev: &CoreDev) {
    // Without `memory_lock`, as upstream: a racing power transition only gets `EBUSY`.
    vdev.set_sriov_active(false);
    let pdev = vdev.pdev();
    let mut list = sriov_pfs::lock();
    if let Some(i) = list.iter().position(|p| same(&p.pdev, pdev)) {
        let _ = list.remove(i);
    }
    if list.is_empty() {
        // Statics are never dropped: an empty list keeps no buffer, or module unload leaks it.
        *list = KVec::new();
    }
}

/// Module exit: the PF list's buffer (no PF can be listed once every device is unbound).
pub(crate) fn exit() {
    *sriov_pfs::lock() = KVec::new();
}

/// `vfio_pci_core_finish_enable`'s and `_close_device`'s VF user count on the PF's token.
pub(crate) fn count_vf_user(vdev: &CoreDev, open: bool) {
    if let Role::Vf(token) = &*vdev.state().sriov.lock() {
        let mut st = token.inner.lock();
        if open {
            st.users += 1;
        } else {
            kernel::warn_on!(st.users == 0);
            st.users = st.users.saturating_sub(1);
        }
    }
}

/// `vfio_pci_core_match_token_uuid`: whether a user presenting `uuid` (or none) may open the
/// device.
pub(crate) fn match_token(vdev: &CoreDev, uuid: Option<&Uuid>) -> Result {
    let dev = vdev.pdev().as_ref();
    let role = vdev.state().sriov.lock().clone();
    match role {
        Role::Vf(token) => {
            let Some(uuid) = uuid else {
                dev_info!(dev, "VF token required to access device\n");
                return Err(EACCES);
            };
            if token.inner.lock().uuid != *uuid {
                dev_info!(dev, "Incorrect VF token provided for device\n");
                return Err(EACCES);
            }
        }
        Role::None if vdev.pdev().is_virtfn() => {
            // The PF is not bound here: no token.
            if uuid.is_some() {
                dev_info!(
                    dev,
                    "VF token incorrectly provided, PF not bound to vfio-pci\n"
                );
                return Err(EINVAL);
            }
        }
        Role::Pf(token) => {
            let mut st = token.inner.lock();
            if st.users != 0 {
                match uuid {
                    None => {
                        drop(st);
                        dev_info!(dev, "VF token required to access device\n");
                        return Err(EACCES);
                    }
                    Some(u) if *u != st.uuid => {
                        drop(st);
                        dev_info!(dev, "Incorrect VF token provided for device\n");
                        return Err(EACCES);
                    }
                    Some(_) => {}
                }
            } else if let Some(u) = uuid {
                st.uuid = *u;
            }
        }
        Role::None => {
            if uuid.is_some() {
                dev_info!(dev, "VF token incorrectly provided, not a PF or VF\n");
                return Err(EINVAL);
            }
        }
    }
    Ok(())
}

/// What `vfio_pci_core_match` makes of the name the user asked for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NameMatch {
    /// Another device.
    Other,
    /// This device, with or without a VF token.
    This(Option<Uuid>),
}

/// `vfio_pci_core_match`'s parsing: `buf` is this device's name `name`, optionally followed by
/// spaces and one `vf_token=UUID` option. Any other or repeated option, a short or bad UUID:
/// `EINVAL`.
pub(crate) fn parse_match(name: &[u8], buf: &[u8]) -> Result<NameMatch> {
    let Some(mut rest) = buf.strip_prefix(name) else {
        return Ok(NameMatch::Other);
    };
    if rest.is_empty() {
        return Ok(NameMatch::This(None));
    }
    if rest[0] != b' ' {
        return Ok(NameMatch::Other);
    }
    let mut token = None;
    while let Some(&c) = rest.first() {
        if c == b' ' {
            rest = &rest[1..];
            continue;
        }
        match rest.strip_prefix(b"vf_token=") {
            Some(after) if token.is_none() => {
                if after.len() < UUID_STRING_LEN {
                    return Err(EINVAL);
                }
                token = Some(parse_uuid(after).ok_or(EINVAL)?);
                rest = &after[UUID_STRING_LEN..];
            }
            _ => return Err(EINVAL),
        }
    }
    Ok(NameMatch::This(token))
}

/// `VFIO_DEVICE_FEATURE_PCI_VF_TOKEN`: SET only (a GET would show the last user's token).
pub(crate) fn feature_token(vdev: &CoreDev, flags: u32, arg: usize, argsz: usize) -> Result {
    let Role::Pf(token) = vdev.state().sriov.lock().clone() else {
        return Err(ENOTTY);
    };
    if !check_feature(
        flags,
        argsz,
        crate::kernel_ext::uapi::VFIO_DEVICE_FEATURE_SET,
        16,
    )? {
        return Ok(());
    }
    let mut uuid: Uuid = [0; 16];
    UserSlice::new(UserPtr::from_addr(arg), uuid.len())
        .reader()
        .read_slice(&mut uuid)?;
    token.inner.lock().uuid = uuid;
    Ok(())
}
