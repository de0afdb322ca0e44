// SPDX-License-Identifier: GPL-2.0

//! Interrupts relayed to user space, as upstream's `vfio_pci_intrs.c`: `VFIO_DEVICE_SET_IRQS`
//! (INTx with automasking and virqfd unmasking, MSI, MSI-X with dynamic vectors, the error and
//! request eventfds), and the masking that config-space writes and runtime PM ask for.
//!
//! [`plan`](crate::irq_plan::plan) decides what a request does (pure, host-tested); this file
//! carries it out. What interrupt handlers reach is in [`IrqShared`] (behind an `Arc`, never the
//! driver's C struct); what only `igate` holders touch is in [`Irqs`].
//!
//! Lock order: `igate` > `memory_lock` (MSI setup writes the command register); `irqlock`
//! (INTx's mask state) is a leaf; an eventfd slot's lock is taken outside `irqlock` and
//! around the eventfd's own wait-queue lock, and the unmask virqfd's handler runs under that
//! wait-queue lock and takes `irqlock`, so nothing signals under `irqlock`.

use crate::{
    enable::MemoryEnabled,
    ffi::CoreDev,
    info,
    irq_plan::{
        self,
        Data,
        Plan,
        Single, //
    },
    kernel_ext::{
        eventfd::{
            EventFdRef,
            EventFdSlot, //
        },
        irq::{
            Line,
            Registration,
            RequestFlags,
            Unlazy, //
        },
        irq_bypass::Producer,
        pci::{
            irq_vectors::{
                Alloc,
                IrqVectors, //
            },
            DeviceFields, IntxExt,
        },
        vfio::driver::{
            read_irq_set,
            Virqfd,
            VirqfdHandler, //
        },
    },
};
use core::sync::atomic::{
    AtomicBool,
    Ordering, //
};
use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    irq::{
        Handler,
        IrqReturn, //
    },
    new_spinlock_irq, pci,
    prelude::*,
    str::CString,
    sync::{
        aref::ARef,
        Arc,
        SpinLockIrq, //
    },
};

/// `IRQ_NOTCONNECTED`: a line the platform says goes nowhere.
const IRQ_NOTCONNECTED: u32 = 1 << 31;

/// What the INTx handler, the unmask virqfd and the exports reach without `igate`.
#[pin_data]
pub(crate) struct IrqShared {
    pdev: ARef<pci::Device>,
    /// `irqlock` and what it guards.
    #[pin]
    intx: SpinLockIrq<IntxLine>,
    /// `irq_type == INTx`, as `vfio_send_intx_eventfd` reads it.
    intx_on: AtomicBool,
    /// `virq_disabled`: the user set DisINTx in the virtual command register.
    virq_disabled: AtomicBool,
    /// `pm_intx_masked`: runtime suspend masked INTx.
    pm_intx_masked: AtomicBool,
    /// INTx's trigger.
    #[pin]
    intx_trigger: EventFdSlot,
    /// `err_trigger`.
    #[pin]
    err: EventFdSlot,
    /// `req_trigger`.
    #[pin]
    req: EventFdSlot,
}

/// INTx's line and mask state (`irqlock`).
struct IntxLine {
    /// The line while INTx is enabled.
    line: Option<Line>,
    /// Masked through DisINTx rather than at the IRQ chip.
    pci_2_3: bool,
    /// `ctx->masked`.
    masked: bool,
}

impl IrqShared {
    /// Nothing enabled, for `pdev`.
    pub(crate) fn new(pdev: ARef<pci::Device>) -> impl PinInit<Self> {
        pin_init!(Self {
            pdev,
            intx <- new_spinlock_irq!(
                IntxLine {
                    line: None,
                    pci_2_3: false,
                    masked: false
                },
                "irqlock"
            ),
            intx_on: AtomicBool::new(false),
            virq_disabled: AtomicBool::new(false),
            pm_intx_masked: AtomicBool::new(false),
            intx_trigger <- EventFdSlot::new(),
            err <- EventFdSlot::new(),
            req <- EventFdSlot::new(),
        })
    }

    /// `vfio_send_intx_eventfd`.
    fn send_intx_eventfd(&self) {
        if self.intx_on.load(Ordering::Acquire) && !self.virq_disabled.load(Ordering::Acquire) {
            self.intx_trigger.signal();
        }
    }

    /// `vfio_pci_intx_unmask_handler` with INTx on: returns whether an interrupt is pending
    /// and must be re-sent (never signalled here: the virqfd calls this under its eventfd's
    /// wait-queue lock, and the trigger may be that same eventfd).
    fn unmask_line(&self) -> bool {
        let mut st = self.intx.lock();
        let Some(line) = st.line else {
            return false;
        };
        if !st.masked || self.virq_disabled.load(Ordering::Acquire) {
            return false;
        }
        let mut pending = false;
        if st.pci_2_3 {
            pending = !self.pdev.check_and_unmask_intx();
        } else {
            line.enable();
        }
        st.masked = pending;
        pending
    }
}

/// The INTx hard handler (`vfio_intx_handler`): masks, then relays.
struct IntxIrq(Arc<IrqShared>);

impl Handler for IntxIrq {
    fn handle(&self) -> IrqReturn {
        let s = &*self.0;
        let handled = {
            let mut st = s.intx.lock();
            if !st.pci_2_3 {
                if let Some(line) = st.line {
                    line.disable_nosync();
                }
                st.masked = true;
                true
            } else if !st.masked && s.pdev.check_and_mask_intx() {
                // The line may be shared: only ours if the device asserts it.
                st.masked = true;
                true
            } else {
                false
            }
        };
        if handled {
            s.send_intx_eventfd();
            IrqReturn::Handled
        } else {
            IrqReturn::None
        }
    }
}

/// The unmask virqfd's callbacks.
struct IntxUnmask(Arc<IrqShared>);

#[vtable]
impl VirqfdHandler for IntxUnmask {
    fn handler(&self) -> bool {
        self.0.unmask_line()
    }

    fn thread(&self) {
        self.0.send_intx_eventfd();
    }
}

/// An MSI/MSI-X vector's handler (`vfio_msihandler`): signals its trigger.
struct MsiIrq(EventFdRef);

impl Handler for MsiIrq {
    fn handle(&self) -> IrqReturn {
        self.0.signal();
        IrqReturn::Handled
    }
}

/// INTx while enabled. Fields drop in upstream's teardown order: the virqfd, the handler,
/// the lazy-disable flag.
struct Intx {
    unmask: Pin<KBox<Virqfd<IntxUnmask>>>,
    _reg: Registration<IntxIrq>,
    _unlazy: Option<Unlazy>,
}

/// One MSI/MSI-X vector with a trigger (upstream's `vfio_pci_irq_ctx`).
struct MsiVector {
    /// Unregistered before the handler is freed.
    producer: Option<Producer>,
    reg: Registration<MsiIrq>,
}

/// MSI or MSI-X while enabled.
struct Msi {
    msix: bool,
    /// Vectors with a trigger, by index (upstream's `ctx` xarray).
    ctx: KVec<Option<MsiVector>>,
    /// Dropped after every vector's handler.
    vectors: IrqVectors,
}

/// What `igate` guards.
pub(crate) struct Irqs {
    intx: Option<Intx>,
    msi: Option<Msi>,
}

impl Irqs {
    /// Nothing enabled.
    pub(crate) const fn new() -> Self {
        Self {
            intx: None,
            msi: None,
        }
    }
}

/// `vfio_pci_ioctl_set_irqs`. A positive result is the vectors available when fewer than
/// asked for could be enabled (upstream's quirk, kept).
pub(crate) fn set_irqs(vdev: &CoreDev, arg: usize) -> Result<isize> {
    let (hdr, data) = read_irq_set(
        arg,
        |index| info::irq_count(vdev, index),
        irq_plan::NUM_IRQS,
    )?;
    let plan = irq_plan::plan(
        vdev.irq_type(),
        hdr.flags,
        hdr.index,
        hdr.start,
        hdr.count,
        Data(&data),
    )?;
    let mut irqs = vdev.state().igate.lock();
    apply(vdev, &mut irqs, plan)
}

/// Carries out a request's [`Plan`] with `igate` held.
fn apply(vdev: &CoreDev, irqs: &mut Irqs, plan: Plan<'_>) -> Result<isize> {
    let shared = &*vdev.state().irq;
    match plan {
        Plan::Nothing => {}
        Plan::IntxMask => {
            mask_locked(vdev, irqs);
        }
        Plan::IntxUnmask => unmask_locked(vdev, irqs),
        Plan::IntxUnmaskFd(fd) => {
            let intx = irqs.intx.as_ref().ok_or(EINVAL)?;
            let handler = Arc::new(IntxUnmask(vdev.state().irq.clone()), GFP_KERNEL)?;
            intx.unmask.enable(handler, fd)?;
        }
        Plan::IntxUnmaskOff => {
            if let Some(intx) = &irqs.intx {
                intx.unmask.disable();
            }
        }
        Plan::IntxDisable => intx_disable(vdev, irqs),
        Plan::IntxEnable(fd) => {
            let trigger = fd.map(EventFdRef::fdget).transpose()?;
            intx_enable(vdev, irqs, trigger)?;
        }
        Plan::IntxSetTrigger(fd) => {
            let trigger = fd.map(EventFdRef::fdget).transpose()?;
            // The old eventfd is dropped here, after the slot's lock: no signal reaches it.
            drop(shared.intx_trigger.replace(trigger));
        }
        Plan::IntxLoopback => shared.send_intx_eventfd(),
        Plan::MsiDisable { .. } => msi_disable(vdev, irqs),
        Plan::MsiEnable {
            msix,
            start,
            count,
            data,
        } => {
            if let Some(avail) = msi_enable(vdev, irqs, start + count, msix)? {
                // CAST: At most 2048.
                return Ok(avail as isize);
            }
            if let Err(e) = msi_set_block(vdev, irqs, start, count, data) {
                msi_disable(vdev, irqs);
                return Err(e);
            }
        }
        Plan::MsiBlock {
            start, count, data, ..
        } => msi_set_block(vdev, irqs, start, count, data)?,
        Plan::MsiLoopback {
            start,
            count,
            bools,
        } => {
            if let Some(msi) = &irqs.msi {
                for (i, v) in (start..start + count).enumerate() {
                    let slot = msi.ctx.get(v as usize).and_then(Option::as_ref);
                    if let Some(vec) = slot {
                        if bools.is_none_or(|b| b.flag(i)) {
                            vec.reg.handler().0.signal();
                        }
                    }
                }
            }
        }
        Plan::SingleSignal(which) => {
            if !single(shared, which).signal() {
                return Err(EINVAL);
            }
        }
        Plan::SingleClear(which) => {
            if single(shared, which).replace(None).is_none() {
                return Err(EINVAL);
            }
        }
        Plan::SingleLoopback(which) => {
            single(shared, which).signal();
        }
        Plan::SingleSet(which, fd) => {
            let efd = fd.map(EventFdRef::fdget).transpose()?;
            drop(single(shared, which).replace(efd));
        }
    }
    Ok(0)
}

fn single(shared: &IrqShared, which: Single) -> &EventFdSlot {
    match which {
        Single::Err => &shared.err,
        Single::Req => &shared.req,
    }
}

/// `vfio_intx_enable`.
fn intx_enable(vdev: &CoreDev, irqs: &mut Irqs, trigger: Option<EventFdRef>) -> Result {
    let pdev = vdev.pdev();
    let shared = &vdev.state().irq;
    let irq = pdev.irq();
    if irq == 0 || irq == IRQ_NOTCONNECTED {
        return Err(ENODEV);
    }
    let name = CString::try_from_fmt(fmt!("vfio-intx({})", pdev.as_ref().name()))?;
    let unmask = KBox::pin_init(Virqfd::new(), GFP_KERNEL_ACCOUNT)?;
    let pci_2_3 = vdev.pci_2_3();
    let masked = shared.virq_disabled.load(Ordering::Acquire);
    let flags = if pci_2_3 {
        pdev.intx(!masked);
        RequestFlags::SHARED
    } else if masked {
        RequestFlags::NO_AUTOEN
    } else {
        RequestFlags::default()
    };
    // The handler relies on INTx being the type in use from its first call.
    drop(shared.intx_trigger.replace(trigger));
    {
        let mut st = shared.intx.lock();
        st.line = Some(kernel_line(irq));
        st.pci_2_3 = pci_2_3;
        st.masked = masked;
    }
    vdev.set_irq_type(irq_plan::INTX);
    shared.intx_on.store(true, Ordering::Release);
    let unlazy = (!pci_2_3).then(|| Unlazy::new(irq));
    match Registration::request(irq, flags, name, IntxIrq(shared.clone())) {
        Ok(reg) => {
            irqs.intx = Some(Intx {
                unmask,
                _reg: reg,
                _unlazy: unlazy,
            });
            Ok(())
        }
        Err(e) => {
            drop(unlazy);
            intx_off(vdev, shared);
            Err(e)
        }
    }
}

/// The line of INTx's IRQ number (from the PCI core, which owns it).
fn kernel_line(irq: u32) -> Line {
    Line::new(irq)
}

/// Back to no interrupt type after INTx, its trigger put.
fn intx_off(vdev: &CoreDev, shared: &IrqShared) {
    shared.intx_on.store(false, Ordering::Release);
    shared.intx.lock().line = None;
    vdev.set_irq_type(irq_plan::NUM_IRQS);
    drop(shared.intx_trigger.replace(None));
}

/// `vfio_intx_disable`.
fn intx_disable(vdev: &CoreDev, irqs: &mut Irqs) {
    if let Some(intx) = irqs.intx.take() {
        intx.unmask.disable();
        // `free_irq` waits for the handler; then the lazy-disable flag goes.
        drop(intx);
    }
    intx_off(vdev, &vdev.state().irq);
}

/// `__vfio_pci_intx_mask` (`igate` held): true if this masked INTx.
fn mask_locked(vdev: &CoreDev, irqs: &Irqs) -> bool {
    let shared = &vdev.state().irq;
    if irqs.intx.is_none() {
        // The physical bit follows the virtual one.
        if vdev.pci_2_3() {
            vdev.pdev().intx(false);
        }
        return false;
    }
    let mut st = shared.intx.lock();
    if st.masked {
        return false;
    }
    if st.pci_2_3 {
        shared.pdev.intx(false);
    } else if let Some(line) = st.line {
        line.disable_nosync();
    }
    st.masked = true;
    true
}

/// `__vfio_pci_intx_unmask` (`igate` held).
fn unmask_locked(vdev: &CoreDev, irqs: &Irqs) {
    let shared = &vdev.state().irq;
    if irqs.intx.is_none() {
        if vdev.pci_2_3() {
            vdev.pdev().intx(true);
        }
        return;
    }
    if shared.unmask_line() {
        shared.send_intx_eventfd();
    }
}

/// `vfio_pci_intx_mask`.
pub(crate) fn intx_mask(vdev: &CoreDev) -> bool {
    let irqs = vdev.state().igate.lock();
    mask_locked(vdev, &irqs)
}

/// `vfio_pci_intx_unmask`.
pub(crate) fn intx_unmask(vdev: &CoreDev) {
    let irqs = vdev.state().igate.lock();
    unmask_locked(vdev, &irqs);
}

/// The virtual DisINTx changed (a config write): masks or unmasks INTx to follow it, as
/// `vfio_basic_config_write`.
pub(crate) fn set_virq_disabled(vdev: &CoreDev, disabled: bool) {
    vdev.state()
        .irq
        .virq_disabled
        .store(disabled, Ordering::Release);
    vdev.set_virq_disabled(disabled);
    if disabled {
        intx_mask(vdev);
    } else {
        intx_unmask(vdev);
    }
}

/// `vfio_msi_enable`: `Some(n)` when only `n` vectors were available (none kept).
fn msi_enable(vdev: &CoreDev, irqs: &mut Irqs, nvec: u32, msix: bool) -> Result<Option<u32>> {
    if vdev.irq_type() != irq_plan::NUM_IRQS {
        return Err(EINVAL);
    }
    let alloc = {
        let _mem = MemoryEnabled::new(vdev);
        IrqVectors::alloc(vdev.pdev(), msix, nvec)?
    };
    let vectors = match alloc {
        Alloc::All(v) => v,
        Alloc::Short(n) => return Ok(Some(n)),
    };
    irqs.msi = Some(Msi {
        msix,
        ctx: KVec::new(),
        vectors,
    });
    vdev.set_irq_type(if msix { irq_plan::MSIX } else { irq_plan::MSI });
    if !msix {
        vdev.set_msi_qmax(irq_plan::msi_qmax(nvec));
    }
    Ok(None)
}

/// `vfio_msi_set_block`.
fn msi_set_block(
    vdev: &CoreDev,
    irqs: &mut Irqs,
    start: u32,
    count: u32,
    data: Data<'_>,
) -> Result {
    let Some(msi) = irqs.msi.as_mut() else {
        return Err(EINVAL);
    };
    irq_plan::set_block(
        msi,
        start,
        count,
        data,
        |msi, v, fd| set_vector(vdev, msi, v, fd),
        |msi, v| {
            let _ = set_vector(vdev, msi, v, -1);
        },
    )
}

/// `vfio_msi_set_vector_signal`: releases vector `vector`'s trigger if it has one, then
/// installs eventfd `fd` (>= 0).
fn set_vector(vdev: &CoreDev, msi: &mut Msi, vector: u32, fd: i32) -> Result {
    let idx = vector as usize;
    let old = msi.ctx.get_mut(idx).and_then(Option::take);
    let existed = old.is_some();
    if let Some(mut old) = old {
        drop(old.producer.take());
        let _mem = MemoryEnabled::new(vdev);
        // `free_irq`; the IRQ stays allocated until MSI is disabled.
        drop(old);
    }
    if fd < 0 {
        return Ok(());
    }
    let line = match msi.vectors.line(vector) {
        Ok(l) => l,
        Err(e) if existed || !msi.msix || !vdev.has_dyn_msix() => return Err(e),
        Err(_) => {
            let _mem = MemoryEnabled::new(vdev);
            msi.vectors.alloc_at(vector)?
        }
    };
    while msi.ctx.len() <= idx {
        msi.ctx.push(None, GFP_KERNEL_ACCOUNT)?;
    }
    let pdev = vdev.pdev();
    let name = CString::try_from_fmt(fmt!(
        "vfio-msi{}[{}]({})",
        if msi.msix { "x" } else { "" },
        vector,
        pdev.as_ref().name()
    ))?;
    let trigger = EventFdRef::fdget(fd)?;
    let reg = {
        let _mem = MemoryEnabled::new(vdev);
        if msi.msix {
            // The device's copy may have been cleared behind the kernel's back (resets).
            msi.vectors.rewrite_msg(line);
        }
        Registration::request(
            line.number(),
            RequestFlags::default(),
            name,
            MsiIrq(trigger),
        )?
    };
    let producer = match Producer::register(&reg.handler().0, line) {
        Ok(p) => Some(p),
        Err(e) => {
            dev_info!(
                pdev.as_ref(),
                "irq bypass producer (eventfd {}) registration fails: {}\n",
                fd,
                e.to_errno()
            );
            None
        }
    };
    msi.ctx[idx] = Some(MsiVector { producer, reg });
    Ok(())
}

/// `vfio_msi_disable`.
fn msi_disable(vdev: &CoreDev, irqs: &mut Irqs) {
    if let Some(mut msi) = irqs.msi.take() {
        for v in 0..msi.ctx.len() {
            // CAST: At most 2048 vectors.
            let _ = set_vector(vdev, &mut msi, v as u32, -1);
        }
        let _mem = MemoryEnabled::new(vdev);
        drop(msi);
    }
    // Disabling MSI clears DisINTx: restore it for devices whose INTx is hidden.
    if vdev.nointx() {
        vdev.pdev().intx(false);
    }
    vdev.set_irq_type(irq_plan::NUM_IRQS);
}

/// Every interrupt off at the last close (`vfio_pci_core_disable`'s DATA_NONE trigger of the
/// type in use; upstream runs it without `igate`, the device being closed).
pub(crate) fn teardown(vdev: &CoreDev) {
    let mut irqs = vdev.state().igate.lock();
    if irqs.intx.is_some() {
        intx_disable(vdev, &mut irqs);
    }
    if irqs.msi.is_some() {
        msi_disable(vdev, &mut irqs);
    }
}

/// `vfio_pci_core_close_device`'s end: the error and request eventfds go.
pub(crate) fn clear_err_req(vdev: &CoreDev) {
    let _irqs = vdev.state().igate.lock();
    let shared = &vdev.state().irq;
    drop(shared.err.replace(None));
    drop(shared.req.replace(None));
}

/// Clears the virtual DisINTx at close (`vfio_pci_core_disable`).
pub(crate) fn reset_virq_disabled(vdev: &CoreDev) {
    vdev.state()
        .irq
        .virq_disabled
        .store(false, Ordering::Release);
    vdev.set_virq_disabled(false);
}

/// Runtime suspend: masks INTx if it is in use (`vfio_pci_core_runtime_suspend`).
pub(crate) fn pm_suspend(vdev: &CoreDev) {
    let masked = vdev.irq_type() == irq_plan::INTX && intx_mask(vdev);
    vdev.state()
        .irq
        .pm_intx_masked
        .store(masked, Ordering::Release);
}

/// Runtime resume: unmasks what suspend masked.
pub(crate) fn pm_resume(vdev: &CoreDev) {
    if vdev.state().irq.pm_intx_masked.load(Ordering::Acquire) {
        intx_unmask(vdev);
    }
}

/// `vfio_pci_core_request`: the kernel wants the device back (unregistration waits).
pub(crate) fn request(vdev: &CoreDev, count: u32) {
    let dev = vdev.pdev().as_ref();
    if vdev.state().irq.req.signal() {
        if count % 10 == 0 {
            dev_notice!(dev, "Relaying device request to user (#{})\n", count);
        }
    } else if count == 0 {
        dev_warn!(
            dev,
            "No device request channel registered, blocked until released by user\n"
        );
    }
}

/// `vfio_pci_core_aer_err_detected`'s relay.
pub(crate) fn err_detected(vdev: &CoreDev) {
    vdev.state().irq.err.signal();
}
