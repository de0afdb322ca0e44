// SPDX-License-Identifier: GPL-2.0

//! PCI drivers (`struct pci_driver`) whose driver data is in place before `probe` returns.
//!
//! 7.3's [`kernel::pci::Adapter`] sets drvdata from what `probe` returns, but C code called
//! from inside a probe may read it already: upstream's `vfio_pci_core_register_device` does
//! `WARN_ON(vdev != dev_get_drvdata(dev))`. Here `probe` gets a [`DrvDataSlot`] and installs
//! its data (any [`ForeignOwnable`], e.g. an `ARef` to the VFIO device, whose foreign pointer
//! is the one C expects) with [`DrvDataSlot::set`]; the [`Installed`] token it gets back is
//! what `probe` must return on success, so a bound device always has its data. The other
//! callbacks borrow it; after `remove` the abstraction clears drvdata and drops the data, and
//! so it does when `probe` fails after installing it.
//!
//! The registration also carries what vfio-pci's `struct pci_driver` has and 7.3's lacks:
//! `driver_override`-only id entries ([`DeviceId::vfio_override`]), `sriov_configure`, the
//! `err_handler` table, `driver_managed_dma`, and dynamic ids ([`Registration::add_dynid`],
//! `pci_add_dynid`, which vfio-pci's `ids=` parameter feeds).
//!
//! C header: [`include/linux/pci.h`](srctree/include/linux/pci.h).

use super::id::{
    DeviceId,
    IdTable, //
};
use crate::bindings;
use core::marker::PhantomData;
use kernel::{
    device::{
        Bound,
        Core, //
    },
    error::{
        to_result,
        VTABLE_DEFAULT_ERROR, //
    },
    module::{
        this_module,
        ModuleMetadata, //
    },
    pci,
    prelude::*,
    types::{
        ForeignOwnable,
        Opaque, //
    },
};

/// The borrowed form of a driver's data, as its callbacks get it.
pub type DataRef<'a, T> = <<T as Driver>::Data as ForeignOwnable>::Borrowed<'a>;

/// A PCI driver.
///
/// # Examples
///
/// ```ignore
/// use vfio_rs_kernel_ext::pci::{self, DeviceId, Driver, DrvDataSlot, Installed, ANY_ID};
///
/// vfio_rs_kernel_ext::pci_device_table!(TABLE, [DeviceId::vfio_override(ANY_ID, ANY_ID)]);
///
/// struct MyDriver;
///
/// #[vtable]
/// impl Driver for MyDriver {
///     const NAME: &'static CStr = c"my-driver";
///     const ID_TABLE: pci::IdTable = &TABLE;
///     const DRIVER_MANAGED_DMA: bool = true;
///     type Data = KBox<MyState>;
///
///     fn probe<'a>(
///         dev: &'a kernel::pci::Device<Core<'_>>,
///         _id: &DeviceId,
///         drvdata: DrvDataSlot<'a, Self::Data>,
///     ) -> Result<Installed<'a, Self::Data>> {
///         let data = drvdata.set(KBox::new(MyState::new(dev)?, GFP_KERNEL)?);
///         // From here on, C sees `dev_get_drvdata(&pdev->dev)`.
///         register_with_something_that_checks_drvdata(dev, data.borrow())?;
///         Ok(data)
///     }
/// }
/// ```
#[vtable]
pub trait Driver: Sized + 'static {
    /// `name`: the driver's name, which `driver_override` names (`/sys/bus/pci/drivers/NAME`).
    const NAME: &'static CStr;

    /// `id_table`: made by [`pci_device_table!`](crate::pci_device_table).
    const ID_TABLE: IdTable;

    /// `driver_managed_dma`: the driver, not the DMA API, owns the device's IOMMU domain (VFIO
    /// drivers): binding claims the IOMMU group's DMA ownership for the driver.
    const DRIVER_MANAGED_DMA: bool = false;

    /// The driver data of a bound device, drvdata as C sees it (its
    /// [`ForeignOwnable::into_foreign`] pointer).
    type Data: ForeignOwnable + Send + Sync + 'static;

    /// Binds `dev`, matched by `id`. On success the driver's data must be installed through
    /// `drvdata`, whose [`Installed`] token is the proof returned. On failure, data installed
    /// before the error is dropped after `probe` returns, with drvdata cleared.
    fn probe<'a>(
        dev: &'a pci::Device<Core<'_>>,
        id: &DeviceId,
        drvdata: DrvDataSlot<'a, Self::Data>,
    ) -> Result<Installed<'a, Self::Data>>;

    /// Unbinds `dev` (`remove`). The data is dropped after this returns, drvdata cleared
    /// first. Optional: without it the data is only dropped.
    fn remove(dev: &pci::Device<Core<'_>>, data: DataRef<'_, Self>) {
        let _ = (dev, data);
    }

    /// `sriov_configure`: enables `num_vfs` VFs (0: disables them); returns how many are
    /// enabled. Called with the device lock held (a write to `sriov_numvfs`).
    fn sriov_configure(
        _dev: &pci::Device<Bound>,
        _data: DataRef<'_, Self>,
        _num_vfs: i32,
    ) -> Result<i32> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// `err_handler->error_detected`: an error on the device's channel (AER, DPC).
    fn error_detected(
        _dev: &pci::Device<Bound>,
        _data: DataRef<'_, Self>,
        _state: ChannelState,
    ) -> ErsResult {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// `err_handler->reset_prepare`: the PCI core is about to reset the function.
    fn reset_prepare(_dev: &pci::Device<Bound>, _data: DataRef<'_, Self>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// `err_handler->reset_done`: the PCI core has reset the function.
    fn reset_done(_dev: &pci::Device<Bound>, _data: DataRef<'_, Self>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// `pci_channel_state_t`: the state of the device's channel an error left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelState {
    /// `pci_channel_io_normal`: I/O still works.
    Normal,
    /// `pci_channel_io_frozen`: I/O is blocked until a reset.
    Frozen,
    /// `pci_channel_io_perm_failure`: the device is gone for good.
    PermFailure,
    /// A value this abstraction does not know.
    Other(u32),
}

impl ChannelState {
    fn from_raw(state: bindings::pci_channel_state_t) -> Self {
        match state {
            bindings::pci_channel_io_normal => Self::Normal,
            bindings::pci_channel_io_frozen => Self::Frozen,
            bindings::pci_channel_io_perm_failure => Self::PermFailure,
            other => Self::Other(other),
        }
    }

    /// The C value (for handing the state on to C, e.g. a VFIO PCI core's error handler).
    pub fn as_raw(self) -> bindings::pci_channel_state_t {
        match self {
            Self::Normal => bindings::pci_channel_io_normal,
            Self::Frozen => bindings::pci_channel_io_frozen,
            Self::PermFailure => bindings::pci_channel_io_perm_failure,
            Self::Other(other) => other,
        }
    }
}

/// `pci_ers_result_t`: a driver's vote in error recovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ErsResult {
    /// `PCI_ERS_RESULT_NONE`: no opinion.
    None = bindings::pci_ers_result_PCI_ERS_RESULT_NONE,
    /// `PCI_ERS_RESULT_CAN_RECOVER`: the device can recover without a reset.
    CanRecover = bindings::pci_ers_result_PCI_ERS_RESULT_CAN_RECOVER,
    /// `PCI_ERS_RESULT_NEED_RESET`: the device needs a slot reset.
    NeedReset = bindings::pci_ers_result_PCI_ERS_RESULT_NEED_RESET,
    /// `PCI_ERS_RESULT_DISCONNECT`: the device is lost.
    Disconnect = bindings::pci_ers_result_PCI_ERS_RESULT_DISCONNECT,
    /// `PCI_ERS_RESULT_RECOVERED`: the device recovered.
    Recovered = bindings::pci_ers_result_PCI_ERS_RESULT_RECOVERED,
}

impl ErsResult {
    /// The vote a C error handler returned; a value this abstraction does not know is
    /// [`ErsResult::None`] (no opinion).
    pub fn from_raw(res: bindings::pci_ers_result_t) -> Self {
        match res {
            bindings::pci_ers_result_PCI_ERS_RESULT_CAN_RECOVER => Self::CanRecover,
            bindings::pci_ers_result_PCI_ERS_RESULT_NEED_RESET => Self::NeedReset,
            bindings::pci_ers_result_PCI_ERS_RESULT_DISCONNECT => Self::Disconnect,
            bindings::pci_ers_result_PCI_ERS_RESULT_RECOVERED => Self::Recovered,
            _ => Self::None,
        }
    }
}

/// An invariant lifetime: ties a value to one `probe` call.
type Brand<'a> = PhantomData<fn(&'a ()) -> &'a ()>;

/// Where `probe` installs the driver data of the device being bound (its drvdata).
///
/// # Invariants
///
/// `dev` is the `struct device` of the PCI device being probed by [`Registration<T>`] with
/// `T::Data == D`, during that call (`'a`), and its drvdata is NULL.
pub struct DrvDataSlot<'a, D: ForeignOwnable> {
    dev: *mut bindings::device,
    _brand: Brand<'a>,
    _data: PhantomData<D>,
}

impl<'a, D: ForeignOwnable> DrvDataSlot<'a, D> {
    /// Installs `data` as the device's drvdata (`dev_set_drvdata`); from now on C code sees its
    /// foreign pointer through `dev_get_drvdata()`.
    pub fn set(self, data: D) -> Installed<'a, D> {
        let ptr = data.into_foreign();
        // SAFETY: `dev` is the device being probed, alive for the call (type invariant).
        unsafe { bindings::dev_set_drvdata(self.dev, ptr) };
        // INVARIANT: `ptr` comes from `into_foreign` and is the device's drvdata now; the
        // abstraction takes it back only after `probe` returns.
        Installed {
            ptr,
            _brand: PhantomData,
            _data: PhantomData,
        }
    }
}

/// Proof that `probe` installed the driver data of the device it binds, and a borrow of it.
///
/// # Invariants
///
/// `ptr` is the device's drvdata, from `D::into_foreign`, not taken back while `'a` lasts (the
/// abstraction takes it back after `probe` returns, on failure, or after `remove`).
pub struct Installed<'a, D: ForeignOwnable> {
    ptr: *mut c_void,
    _brand: Brand<'a>,
    _data: PhantomData<D>,
}

impl<D: ForeignOwnable> Installed<'_, D> {
    /// The data.
    pub fn borrow(&self) -> D::Borrowed<'_> {
        // SAFETY: `ptr` came from `into_foreign` and is not taken back while `self` lives (type
        // invariant); callbacks only ever borrow it immutably.
        unsafe { D::borrow(self.ptr) }
    }

    /// The pointer C sees as drvdata.
    pub fn as_ptr(&self) -> *const c_void {
        self.ptr
    }
}

/// A registered PCI driver (`__pci_register_driver`), unregistered on drop.
///
/// A module holds it as a pinned field of an [`kernel::InPlaceModule`]
/// (`_driver <- Registration::new()`) or boxed in a plain [`kernel::Module`]:
///
/// ```ignore
/// struct MyModule {
///     driver: Pin<KBox<Registration<MyDriver>>>,
/// }
///
/// impl kernel::Module for MyModule {
///     fn init(_module: &'static ThisModule) -> Result<Self> {
///         let driver = KBox::pin_init(Registration::<MyDriver>::new(), GFP_KERNEL)?;
///         driver.add_dynid(&DeviceId::new(0x1234, 0x11e8))?; // vfio-pci's `ids=`
///         Ok(Self { driver })
///     }
/// }
/// ```
///
/// # Invariants
///
/// `raw` is registered with the PCI core, its callbacks being this type's, from `new` until
/// drop. The drvdata of a device bound to it is NULL or a `T::Data` foreign pointer, written
/// only by [`DrvDataSlot::set`] and cleared by the callbacks here.
#[pin_data(PinnedDrop)]
pub struct Registration<T: Driver> {
    #[pin]
    raw: Opaque<bindings::pci_driver>,
    _driver: PhantomData<T>,
}

// SAFETY: The PCI core serialises what it does with the registered struct; it may be
// unregistered from any thread.
unsafe impl<T: Driver> Send for Registration<T> {}
// SAFETY: `&self` only allows `add_dynid`, which the PCI core locks.
unsafe impl<T: Driver> Sync for Registration<T> {}

impl<T: Driver> Registration<T> {
    /// The `err_handler` table (only the callbacks `T` implements).
    const ERR_HANDLERS: bindings::pci_error_handlers = bindings::pci_error_handlers {
        error_detected: if T::HAS_ERROR_DETECTED {
            Some(Self::error_detected_callback)
        } else {
            None
        },
        reset_prepare: if T::HAS_RESET_PREPARE {
            Some(Self::reset_prepare_callback)
        } else {
            None
        },
        reset_done: if T::HAS_RESET_DONE {
            Some(Self::reset_done_callback)
        } else {
            None
        },
        ..pin_init::zeroed()
    };

    const HAS_ERR_HANDLER: bool =
        T::HAS_ERROR_DETECTED || T::HAS_RESET_PREPARE || T::HAS_RESET_DONE;

    /// Registers the driver, owned by `T`'s module; the PCI core probes the devices it
    /// matches before this returns.
    pub fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            raw <- Opaque::try_ffi_init(|slot: *mut bindings::pci_driver| {
                // SAFETY: All-zero is a valid `pci_driver`: no callbacks, no names, no table.
                let mut drv: bindings::pci_driver = unsafe { core::mem::zeroed() };
                drv.name = T::NAME.as_char_ptr();
                drv.id_table = T::ID_TABLE.as_ptr();
                drv.probe = Some(Self::probe_callback);
                drv.remove = Some(Self::remove_callback);
                if T::HAS_SRIOV_CONFIGURE {
                    drv.sriov_configure = Some(Self::sriov_configure_callback);
                }
                if Self::HAS_ERR_HANDLER {
                    drv.err_handler = &Self::ERR_HANDLERS;
                }
                drv.driver_managed_dma = T::DRIVER_MANAGED_DMA;
                // SAFETY: `slot` is valid for writes and pinned.
                unsafe { slot.write(drv) };
                let module = this_module::<T::OwnerModule>();
                let mod_name = <T::OwnerModule as ModuleMetadata>::NAME;
                // SAFETY: The driver struct is initialised and stays pinned until `drop`
                // unregisters it; its name, id table and error handlers are static.
                to_result(unsafe {
                    bindings::__pci_register_driver(slot, module.as_ptr(), mod_name.as_char_ptr())
                })
            }),
            _driver: PhantomData,
        })
    }

    /// `pci_add_dynid`: makes the driver match `id` too (its vendor, device, subsystem and
    /// class fields; `driver_data` 0) and probes the unbound devices it matches now. As
    /// vfio-pci's `ids=` parameter or a write to the driver's `new_id`.
    pub fn add_dynid(&self, id: &DeviceId) -> Result {
        // SAFETY: `raw` is registered (type invariant), which `pci_add_dynid` needs.
        to_result(unsafe {
            bindings::pci_add_dynid(
                self.raw.get(),
                id.vendor(),
                id.device(),
                id.subvendor(),
                id.subdevice(),
                id.class_code(),
                id.class_mask(),
                0,
            )
        })
    }

    /// The device and its drvdata pointer (NULL: none installed).
    ///
    /// # Safety
    ///
    /// `pdev` must be a device bound (or being bound) to this driver, alive for `'a`.
    unsafe fn dev_and_data<'a, Ctx: kernel::device::DeviceContext>(
        pdev: *mut bindings::pci_dev,
    ) -> (&'a pci::Device<Ctx>, *mut c_void) {
        // SAFETY: `pdev` is valid for `'a` (function contract); `pci::Device<Ctx>` is a
        // transparent wrapper of `struct pci_dev`, and the caller picks the context the PCI
        // core's call guarantees.
        let dev = unsafe { &*pdev.cast::<pci::Device<Ctx>>() };
        // SAFETY: As above.
        let data = unsafe { bindings::dev_get_drvdata(&raw mut (*pdev).dev) };
        (dev, data)
    }

    /// Clears drvdata and drops the data it pointed to, if any.
    ///
    /// # Safety
    ///
    /// `pdev` is bound or being bound to this driver, with no borrow of its data left, and the
    /// PCI core holds its device lock.
    unsafe fn take_data(pdev: *mut bindings::pci_dev) {
        // SAFETY: `pdev` is valid for the call (function contract).
        let dev = unsafe { &raw mut (*pdev).dev };
        // SAFETY: As above.
        let ptr = unsafe { bindings::dev_get_drvdata(dev) };
        if ptr.is_null() {
            return;
        }
        // SAFETY: As above.
        unsafe { bindings::dev_set_drvdata(dev, core::ptr::null_mut()) };
        // SAFETY: A non-NULL drvdata of our device is a `T::Data` foreign pointer (type
        // invariant), no longer borrowed (function contract) nor reachable through drvdata.
        drop(unsafe { T::Data::from_foreign(ptr) });
    }

    /// # Safety
    ///
    /// Called by the PCI core to bind `pdev`, matched by `id`, under its device lock.
    unsafe extern "C" fn probe_callback(
        pdev: *mut bindings::pci_dev,
        id: *const bindings::pci_device_id,
    ) -> c_int {
        // SAFETY: `pdev` is being bound to us, alive for the call; this is a bus callback.
        let (dev, _) = unsafe { Self::dev_and_data::<Core<'_>>(pdev) };
        // SAFETY: The PCI core passes the matched id (a table entry, a dynamic id's copy, or
        // `pci_device_id_any`), valid for the call.
        let id = unsafe { DeviceId::from_raw(id) };
        // INVARIANT: The device is being probed by us; the driver core cleared its drvdata
        // when the last driver let it go.
        let slot = DrvDataSlot {
            // SAFETY: `pdev` is valid for the call.
            dev: unsafe { &raw mut (*pdev).dev },
            _brand: PhantomData,
            _data: PhantomData,
        };
        match T::probe(dev, id, slot) {
            Ok(_installed) => 0,
            Err(e) => {
                // SAFETY: `probe` returned, so its borrows of the data are gone; the device lock
                // is held.
                unsafe { Self::take_data(pdev) };
                e.to_errno()
            }
        }
    }

    /// # Safety
    ///
    /// Called by the PCI core to unbind `pdev`, which `probe_callback` bound, under its device
    /// lock.
    unsafe extern "C" fn remove_callback(pdev: *mut bindings::pci_dev) {
        // SAFETY: `pdev` is bound to us, alive for the call; this is a bus callback.
        let (dev, ptr) = unsafe { Self::dev_and_data::<Core<'_>>(pdev) };
        if !ptr.is_null() {
            // SAFETY: A bound device's drvdata is a `T::Data` foreign pointer (type invariant),
            // taken back only below.
            T::remove(dev, unsafe { T::Data::borrow(ptr) });
        }
        // SAFETY: `remove` returned; the device lock is held.
        unsafe { Self::take_data(pdev) };
    }

    /// # Safety
    ///
    /// Called by the PCI core for a device bound to us, under its device lock.
    unsafe extern "C" fn sriov_configure_callback(
        pdev: *mut bindings::pci_dev,
        num_vfs: c_int,
    ) -> c_int {
        // SAFETY: `pdev` is bound to us for the call (the core checked its driver under the
        // device lock).
        let (dev, ptr) = unsafe { Self::dev_and_data::<Bound>(pdev) };
        if ptr.is_null() {
            return ENODEV.to_errno();
        }
        // SAFETY: A bound device's drvdata is a `T::Data` foreign pointer (type invariant),
        // not taken back while the device lock is held.
        match T::sriov_configure(dev, unsafe { T::Data::borrow(ptr) }, num_vfs) {
            Ok(n) => n,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Called by the PCI core's error recovery for a device bound to us, under its device
    /// lock.
    unsafe extern "C" fn error_detected_callback(
        pdev: *mut bindings::pci_dev,
        state: bindings::pci_channel_state_t,
    ) -> bindings::pci_ers_result_t {
        // SAFETY: `pdev` is bound to us for the call (function contract).
        let (dev, ptr) = unsafe { Self::dev_and_data::<Bound>(pdev) };
        if ptr.is_null() {
            return ErsResult::None as u32;
        }
        // SAFETY: As in `sriov_configure_callback`.
        let data = unsafe { T::Data::borrow(ptr) };
        T::error_detected(dev, data, ChannelState::from_raw(state)) as u32
    }

    /// # Safety
    ///
    /// Called by the PCI core before it resets a device bound to us, under its device lock.
    unsafe extern "C" fn reset_prepare_callback(pdev: *mut bindings::pci_dev) {
        // SAFETY: `pdev` is bound to us for the call (function contract).
        let (dev, ptr) = unsafe { Self::dev_and_data::<Bound>(pdev) };
        if !ptr.is_null() {
            // SAFETY: As in `sriov_configure_callback`.
            T::reset_prepare(dev, unsafe { T::Data::borrow(ptr) });
        }
    }

    /// # Safety
    ///
    /// Called by the PCI core after it reset a device bound to us, under its device lock.
    unsafe extern "C" fn reset_done_callback(pdev: *mut bindings::pci_dev) {
        // SAFETY: `pdev` is bound to us for the call (function contract).
        let (dev, ptr) = unsafe { Self::dev_and_data::<Bound>(pdev) };
        if !ptr.is_null() {
            // SAFETY: As in `sriov_configure_callback`.
            T::reset_done(dev, unsafe { T::Data::borrow(ptr) });
        }
    }
}

#[pinned_drop]
impl<T: Driver> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: Registered by `new` (type invariant); this unbinds every device (`remove`)
        // and frees the dynamic ids.
        unsafe { bindings::pci_unregister_driver(self.raw.get()) };
    }
}
