// SPDX-License-Identifier: GPL-2.0

//! `struct virqfd`: an eventfd whose signals call a driver's handler in atomic context and,
//! if asked, its thread function from a work item (vfio-pci: INTx unmask eventfds and
//! ioeventfds).
//!
//! A driver owns a `struct virqfd *` slot and passes its address to the core. Drivers never look
//! inside the object, but it is the C struct of the header all the same: kmalloc'd here, with its
//! wait-queue entry, poll table and work items embedded. Only `vfio.ko` builds and frees these
//! objects, so this is part of its C ABI glue rather than an abstraction under `rust/`: the
//! object's memory, the driver's slot, the work functions and the wake-up dispatch C calls, and
//! upstream's module state behind them (the slot lock, the cleanup queue). The eventfd side
//! (hooking onto its wait queue) is `rust/eventfd.rs`; what a virqfd does is
//! `drivers/vfio/virqfd.rs`.
//!
//! Lifetime rules, which the `unsafe` blocks below rely on:
//! * An object is built unpublished ([`NewVirqfd`]), then published into its slot under the slot
//!   lock ([`lock_slots`]). From then on one party frees it: its shutdown work, queued on the
//!   cleanup queue by whoever clears the slot under the lock ([`Slot::detach`],
//!   [`Slot::detach_if`]). So an object read from a slot under the lock lives until the lock is
//!   dropped ([`Slot::get`]); detaching needs the guard mutably, which ends such borrows.
//! * The wake callback runs under the eventfd's wait-queue lock, and shutdown unhooks the entry
//!   under that lock before it frees anything, so the object outlives every callback.
//! * Shutdown flushes the inject work, and nothing queues it once the entry is unhooked.
//! * `flush_inject` is only queued while the slot still holds the object, on the same ordered
//!   queue as the shutdown, so it runs before the shutdown is queued, let alone run.
//! * Drivers serialise enable, disable and flush on one slot (vfio-pci: `igate`), so nothing
//!   detaches an object while its enable is still arming it ([`Slot::from_raw`]).
//!
//! C header: [`include/linux/vfio.h`](srctree/include/linux/vfio.h).

use crate::kernel_ext::{
    bindings,
    eventfd::{
        self,
        EventFd,
        EventFdRef,
        EventFdWaiter,
        PollEvents,
        WaitCallback, //
    },
    workqueue_ext::{
        self,
        OrderedQueue,
        RawWork, //
    },
};
use core::{
    marker::PhantomData,
    mem::offset_of,
    ptr::NonNull,
    sync::atomic::{
        AtomicPtr,
        AtomicU8,
        Ordering, //
    },
};
use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    fs::LocalFile,
    prelude::*,
    sync::{
        aref::ARef,
        GlobalGuard, //
    },
    types::Opaque, //
};

// The layout of `struct virqfd` is asserted against the C compiler's in `rust/vfio/layout.rs`.

kernel::sync::global_lock! {
    // SAFETY: `Runtime::new` initialises the lock once (claimed through `LOCK_STATE`), and
    // `lock_slots` refuses to take it before that has completed.
    unsafe(uninit) static VIRQFD_LOCK: SpinLockIrq<()> = ();
}

/// 0: lock not initialised, 1: being initialised, 2: ready.
static LOCK_STATE: AtomicU8 = AtomicU8::new(0);

/// The cleanup queue while a [`Runtime`] exists, else null.
static CLEANUP_WQ: AtomicPtr<bindings::workqueue_struct> = AtomicPtr::new(core::ptr::null_mut());

/// The module-wide part (upstream's `vfio_virqfd_init`/`_exit`): the slot lock and the ordered
/// "vfio-irqfd-cleanup" queue that runs shutdowns and thread flushes.
///
/// Module init creates it, module exit drops it. Everything that reaches the queue runs for an
/// importer of the module (exports) or for an enabled virqfd, and importers disable theirs
/// before they can unload: so the queue outlives every user, and dropping it (which drains the
/// queue) frees the objects whose shutdown is still pending.
pub(crate) struct Runtime {
    _wq: OrderedQueue,
}

impl Runtime {
    /// Initialises the slot lock and allocates the cleanup queue.
    pub(crate) fn new() -> Result<Self> {
        if LOCK_STATE
            .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            // SAFETY: Winning the exchange above makes this the only call.
            unsafe { VIRQFD_LOCK.init() };
            LOCK_STATE.store(2, Ordering::Release);
        }
        let wq = OrderedQueue::new(c"vfio-irqfd-cleanup")?;
        CLEANUP_WQ.store(wq.as_raw(), Ordering::Release);
        Ok(Self { _wq: wq })
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // The queue itself is destroyed (drained) right after, when `_wq` drops.
        CLEANUP_WQ.store(core::ptr::null_mut(), Ordering::Release);
    }
}

/// The cleanup queue; null (with a warning) outside the [`Runtime`]'s life.
fn cleanup_wq() -> *mut bindings::workqueue_struct {
    let wq = CLEANUP_WQ.load(Ordering::Acquire);
    kernel::warn_on!(wq.is_null());
    wq
}

/// Waits for every shutdown and thread flush queued so far (`flush_workqueue`).
pub(crate) fn flush_cleanup() {
    let wq = cleanup_wq();
    if !wq.is_null() {
        // SAFETY: The queue lives while the module does (see `Runtime`); callers hold no lock
        // (the items take none of ours but the eventfd's, which we never hold here).
        unsafe { workqueue_ext::flush_queue(wq) };
    }
}

/// The slot lock (upstream's `virqfd_lock`): irq-safe, as the wake callback takes it.
pub(crate) struct SlotsGuard {
    /// Held for as long as the guard lives (only its drop is used).
    _guard: GlobalGuard<VIRQFD_LOCK>,
}

/// Takes the slot lock.
///
/// # Panics
///
/// Before [`Runtime::new`]: a module init ordering bug.
pub(crate) fn lock_slots() -> SlotsGuard {
    assert!(
        LOCK_STATE.load(Ordering::Acquire) == 2,
        "virqfd lock used before init"
    );
    SlotsGuard {
        _guard: VIRQFD_LOCK.lock(),
    }
}

/// A driver's handler: `int (*)(void *opaque, void *data)`.
pub(crate) type Handler = unsafe extern "C" fn(*mut c_void, *mut c_void) -> c_int;

/// A driver's thread function: `void (*)(void *opaque, void *data)`.
pub(crate) type Thread = unsafe extern "C" fn(*mut c_void, *mut c_void);

/// What a virqfd calls, with which arguments.
///
/// # Invariants
///
/// `handler` may be called with (`opaque`, `data`) in atomic context, and `thread` from a work
/// item, until the virqfd built from them has been shut down.
pub(crate) struct Callbacks {
    opaque: *mut c_void,
    handler: Option<Handler>,
    thread: Option<Thread>,
    data: *mut c_void,
}

impl Callbacks {
    /// Bundles a driver's callbacks.
    ///
    /// # Safety
    ///
    /// The callbacks must be sound to call as the type invariant says, until the slot the
    /// virqfd goes into has been disabled.
    pub(crate) unsafe fn new(
        opaque: *mut c_void,
        handler: Option<Handler>,
        thread: Option<Thread>,
        data: *mut c_void,
    ) -> Self {
        // INVARIANT: Per the function contract.
        Self {
            opaque,
            handler,
            thread,
            data,
        }
    }
}

/// A virqfd object.
///
/// # Invariants
///
/// A `&Virqfd` only exists for a live object whose callbacks, eventfd and slot fields are set
/// (they never change afterwards) and whose work items are initialised; see the module
/// documentation for why each borrow is live.
#[repr(transparent)]
pub(crate) struct Virqfd(Opaque<bindings::virqfd>);

impl Virqfd {
    fn raw(&self) -> *mut bindings::virqfd {
        self.0.get()
    }

    /// Borrows the object that embeds the work item at `ptr`, `offset` bytes into it.
    ///
    /// # Safety
    ///
    /// `ptr` must point `offset` bytes into a live object, for `'a`.
    unsafe fn container_of<'a, T>(ptr: *mut T, offset: usize) -> &'a Self {
        // SAFETY: Per the function contract; `Virqfd` is transparent over the C struct.
        unsafe { &*ptr.cast::<u8>().sub(offset).cast::<Self>() }
    }

    /// Runs the driver's handler if it has one: `true` if it has none or returned non-zero.
    pub(crate) fn run_handler(&self) -> bool {
        let raw = self.raw();
        // SAFETY: The fields are set before publication and never change (type invariant).
        let (handler, opaque, data) = unsafe { ((*raw).handler, (*raw).opaque, (*raw).data) };
        match handler {
            None => true,
            // SAFETY: Callable until shutdown, which has not run while we are borrowed.
            Some(handler) => (unsafe { handler(opaque, data) }) != 0,
        }
    }

    /// Whether the driver gave a thread function.
    pub(crate) fn has_thread(&self) -> bool {
        // SAFETY: As in `run_handler`.
        unsafe { (*self.raw()).thread.is_some() }
    }

    fn work(&self, offset: usize) -> &RawWork {
        // SAFETY: `offset` is that of one of the three work items, initialised before
        // publication (type invariant) and living as long as the object.
        unsafe { RawWork::from_raw(self.raw().cast::<u8>().add(offset).cast()) }
    }

    fn eventfd(&self) -> &EventFd {
        // SAFETY: The object holds a reference on its eventfd until shutdown (type invariant).
        unsafe { EventFd::from_raw((*self.raw()).eventfd) }
    }

    /// Queues the thread function on the system queue (`schedule_work`).
    pub(crate) fn schedule_inject(&self) {
        // SAFETY: Shutdown flushes this item before freeing, and nothing can queue it after that
        // flush: the wait entry is unhooked by then, and borrows of the object have ended.
        unsafe { self.work(offset_of!(bindings::virqfd, inject)).schedule() };
    }

    /// The slot the object was enabled on.
    pub(crate) fn slot(&self) -> Slot {
        // SAFETY: Set before publication, never changed; valid per `Slot::from_raw`'s contract.
        Slot(unsafe { NonNull::new_unchecked((*self.raw()).pvirqfd) })
    }
}

/// A driver's `struct virqfd *` slot: null, or an object of ours.
///
/// # Invariants
///
/// `ptr` is valid while an object is enabled on it, and reads and writes of `*ptr` happen under
/// the slot lock.
pub(crate) struct Slot(NonNull<*mut bindings::virqfd>);

impl Slot {
    /// The slot at `ptr`; `None` for null.
    ///
    /// # Safety
    ///
    /// `ptr` must be null or a slot that holds null or an object of ours, stays valid during the
    /// call and while an object is enabled on it, and is only written by us. Enable, disable and
    /// flush calls for one slot must not run concurrently.
    pub(crate) unsafe fn from_raw(ptr: *mut *mut bindings::virqfd) -> Option<Self> {
        // INVARIANT: Per the function contract.
        NonNull::new(ptr).map(Self)
    }

    fn read(&self, _guard: &SlotsGuard) -> *mut bindings::virqfd {
        // SAFETY: The slot is valid and the lock is held (type invariant).
        unsafe { *self.0.as_ptr() }
    }

    fn write(&self, _guard: &SlotsGuard, value: *mut bindings::virqfd) {
        // SAFETY: As in `read`.
        unsafe { *self.0.as_ptr() = value };
    }

    /// Whether the slot holds an object.
    pub(crate) fn is_set(&self, guard: &SlotsGuard) -> bool {
        !self.read(guard).is_null()
    }

    /// The object in the slot, live while the lock is held.
    pub(crate) fn get<'a>(&self, guard: &'a SlotsGuard) -> Option<InSlot<'a>> {
        let raw = self.read(guard);
        // SAFETY: An object in a slot under the lock has not been detached, so its shutdown is
        // not queued; nothing can detach it while `guard` is borrowed.
        (!raw.is_null()).then(|| InSlot(unsafe { &*raw.cast::<Virqfd>() }))
    }

    /// Empties the slot and queues the shutdown of the object it held; `false` if it was empty.
    pub(crate) fn detach(&self, guard: &mut SlotsGuard) -> bool {
        let raw = self.read(guard);
        if raw.is_null() {
            return false;
        }
        self.write(guard, core::ptr::null_mut());
        // SAFETY: The object was in the slot under the lock, so it is live and nobody else
        // queued its shutdown; clearing the slot made us the one who does.
        unsafe { queue_shutdown(raw) };
        true
    }

    /// As [`Slot::detach`], only if the slot still holds `virqfd` (not yet detached by a
    /// disable, nor replaced since).
    pub(crate) fn detach_if(&self, guard: &mut SlotsGuard, virqfd: &Virqfd) -> bool {
        core::ptr::eq(self.read(guard), virqfd.raw()) && self.detach(guard)
    }
}

/// An object borrowed from its slot under the slot lock.
pub(crate) struct InSlot<'a>(&'a Virqfd);

impl InSlot<'_> {
    /// Queues a flush of the thread function on the cleanup queue.
    pub(crate) fn queue_flush_inject(&self) {
        let wq = cleanup_wq();
        if !wq.is_null() {
            // SAFETY: The object is still in its slot, so its shutdown is queued (if ever) after
            // this item on the same ordered queue, which lives while the module does.
            unsafe {
                self.0
                    .work(offset_of!(bindings::virqfd, flush_inject))
                    .queue_on(wq)
            };
        }
    }
}

impl core::ops::Deref for InSlot<'_> {
    type Target = Virqfd;

    fn deref(&self) -> &Virqfd {
        self.0
    }
}

/// Queues the shutdown of a detached object.
///
/// # Safety
///
/// `raw` must be a published object that was just detached from its slot by the caller.
unsafe fn queue_shutdown(raw: *mut bindings::virqfd) {
    let wq = cleanup_wq();
    if wq.is_null() {
        // Leaked rather than freed under a user; `cleanup_wq` warned.
        return;
    }
    // SAFETY: The object is live and its shutdown work initialised; the item frees the object
    // itself, so its memory stays valid until it has run.
    unsafe { RawWork::from_raw(&raw mut (*raw).shutdown).queue_on(wq) };
}

/// What an eventfd's wake-ups do to its virqfd: implemented by the core.
pub(crate) trait WakeHandler {
    /// Called for each wake-up of the eventfd's wait queue (a signal, or the hang-up when its
    /// last file reference goes), in atomic context under the queue's lock.
    fn wake(wakeup: &Wakeup<'_>);
}

/// One wake-up of a virqfd's eventfd.
pub(crate) struct Wakeup<'a> {
    virqfd: &'a Virqfd,
    events: PollEvents,
}

impl Wakeup<'_> {
    /// The woken object.
    pub(crate) fn virqfd(&self) -> &Virqfd {
        self.virqfd
    }

    /// The events the waker passed.
    pub(crate) fn events(&self) -> PollEvents {
        self.events
    }

    /// Consumes the eventfd's counter, as a reader would (`eventfd_ctx_do_read`).
    pub(crate) fn consume_count(&self) -> u64 {
        // SAFETY: Wake callbacks run under the eventfd's wait-queue lock.
        unsafe { self.virqfd.eventfd().do_read_locked() }
    }
}

// SAFETY: `wait` and `pt` are the object's `struct wait_queue_entry` and `poll_table`, and the
// C struct is behind `Opaque`.
unsafe impl EventFdWaiter for Virqfd {
    const WAIT: usize = offset_of!(bindings::virqfd, wait);
    const POLL_TABLE: usize = offset_of!(bindings::virqfd, pt);
}

/// Hands an object's wake-ups to the core's [`WakeHandler`] `W`.
struct Dispatch<W>(PhantomData<W>);

impl<W: WakeHandler> WaitCallback<Virqfd> for Dispatch<W> {
    fn wake(virqfd: &Virqfd, events: PollEvents) {
        W::wake(&Wakeup { virqfd, events });
    }
}

/// Inject work: runs the driver's thread function.
///
/// # Safety
///
/// `work` must be the `inject` member of a live object (shutdown flushes it before freeing).
unsafe extern "C" fn inject_work(work: *mut bindings::work_struct) {
    // SAFETY: Per the function contract.
    let virqfd = unsafe { Virqfd::container_of(work, offset_of!(bindings::virqfd, inject)) };
    let raw = virqfd.raw();
    // SAFETY: The fields never change after publication.
    let (thread, opaque, data) = unsafe { ((*raw).thread, (*raw).opaque, (*raw).data) };
    if let Some(thread) = thread {
        // SAFETY: Callable until shutdown (`Callbacks` invariant), which waits for us.
        unsafe { thread(opaque, data) };
    }
}

/// Flush-inject work: waits for the thread function, from the cleanup queue.
///
/// # Safety
///
/// `work` must be the `flush_inject` member of a live object (see [`InSlot`]).
unsafe extern "C" fn flush_inject_work(work: *mut bindings::work_struct) {
    // SAFETY: Per the function contract.
    let virqfd = unsafe { Virqfd::container_of(work, offset_of!(bindings::virqfd, flush_inject)) };
    virqfd.work(offset_of!(bindings::virqfd, inject)).flush();
}

/// Shutdown work: unhooks the object from its eventfd, waits for the thread function, drops
/// the eventfd and frees the object.
///
/// # Safety
///
/// `work` must be the `shutdown` member of a detached object; this frees it.
unsafe extern "C" fn shutdown_work(work: *mut bindings::work_struct) {
    // SAFETY: Per the function contract.
    let virqfd = unsafe { Virqfd::container_of(work, offset_of!(bindings::virqfd, shutdown)) };
    let raw = virqfd.raw();
    // SAFETY: The object was armed (hooked onto the eventfd) before it could be detached.
    unsafe { virqfd.eventfd().remove_wait_queue(&raw mut (*raw).wait) };
    virqfd.work(offset_of!(bindings::virqfd, inject)).flush();
    // SAFETY: The object's reference, taken at attach; nothing uses the eventfd any more.
    drop(unsafe { EventFdRef::from_raw((*raw).eventfd) });
    // SAFETY: The object came from `KBox::into_raw` at publication and is unreachable now:
    // out of its slot, off the wait queue, no work item pending but this one, which is done
    // with it (the workqueue does not touch an item after its function is called).
    drop(unsafe { KBox::from_raw(raw.cast::<Virqfd>()) });
}

/// A new object, not yet attached to an eventfd nor published.
pub(crate) struct NewVirqfd {
    obj: KBox<Virqfd>,
}

impl NewVirqfd {
    /// Allocates and initialises an object for `slot` (`ENOMEM`).
    pub(crate) fn new(callbacks: Callbacks, slot: &Slot) -> Result<Self> {
        let obj = KBox::new(Virqfd(Opaque::zeroed()), GFP_KERNEL_ACCOUNT)?;
        let raw = obj.raw();
        // SAFETY: `raw` is a zeroed object we own exclusively. Each work item gets its own
        // static lock class, as upstream's three `INIT_WORK` sites do; the functions match
        // their members.
        unsafe {
            (*raw).pvirqfd = slot.0.as_ptr();
            (*raw).opaque = callbacks.opaque;
            (*raw).handler = callbacks.handler;
            (*raw).thread = callbacks.thread;
            (*raw).data = callbacks.data;
            RawWork::init(
                &raw mut (*raw).shutdown,
                shutdown_work,
                c"&virqfd->shutdown",
                kernel::static_lock_class!(),
            );
            RawWork::init(
                &raw mut (*raw).inject,
                inject_work,
                c"&virqfd->inject",
                kernel::static_lock_class!(),
            );
            RawWork::init(
                &raw mut (*raw).flush_inject,
                flush_inject_work,
                c"&virqfd->flush_inject",
                kernel::static_lock_class!(),
            );
        }
        Ok(Self { obj })
    }

    /// Attaches the eventfd open as `file` (`EINVAL` for other files). The file stays
    /// referenced until the object is armed, so the eventfd cannot hang up before.
    pub(crate) fn attach(self, file: ARef<LocalFile>) -> Result<Attached> {
        let ctx = EventFdRef::from_file(&file)?;
        // SAFETY: Not published yet: we own the object exclusively.
        unsafe { (*self.obj.raw()).eventfd = ctx.into_raw() };
        Ok(Attached { new: self, file })
    }
}

impl Drop for NewVirqfd {
    fn drop(&mut self) {
        // SAFETY: Never published: we own the object, and a non-null `eventfd` is the
        // reference `attach` gave it. The box frees the object after this.
        unsafe {
            let ctx = (*self.obj.raw()).eventfd;
            if !ctx.is_null() {
                drop(EventFdRef::from_raw(ctx));
            }
        }
    }
}

/// An object with its eventfd, ready to publish.
pub(crate) struct Attached {
    new: NewVirqfd,
    file: ARef<LocalFile>,
}

impl Attached {
    /// Puts the object into its slot under `guard`, unless the slot holds one already
    /// (`Err(self)`); then drops the lock, installs `W` as the wake callback and hooks the
    /// object onto the eventfd's wait queue (`vfs_poll` through the object's poll table).
    pub(crate) fn publish<W: WakeHandler>(self, guard: SlotsGuard) -> Result<Armed, Self> {
        let slot = self.new.obj.slot();
        if slot.is_set(&guard) {
            return Err(self);
        }
        let Attached { new, file } = self;
        let new = core::mem::ManuallyDrop::new(new);
        // SAFETY: `new` is never used or dropped again: the eventfd reference and the box now
        // belong to the published object (freed by its shutdown).
        let raw = KBox::into_raw(unsafe { core::ptr::read(&new.obj) });
        slot.write(&guard, raw.cast());
        drop(guard);
        // SAFETY: `KBox::into_raw` never returns null.
        let virqfd = unsafe { NonNull::new_unchecked(raw) };
        // SAFETY: The object is live (see `Armed`) and on no wait queue yet, so nothing reads
        // `wait` or `pt` concurrently; its shutdown unhooks it before freeing it; `file` is the
        // eventfd the object holds.
        let pending = unsafe { eventfd::arm::<Virqfd, Dispatch<W>>(raw, &file) };
        // INVARIANT: Published with its file held; see the type invariant.
        Ok(Armed {
            virqfd,
            _file: file,
            pending,
        })
    }
}

/// A published object hooked onto its eventfd, until its enable returns.
///
/// # Invariants
///
/// `virqfd` is live until this value is dropped: the slot's driver does not disable it
/// meanwhile ([`Slot::from_raw`]), and the held file keeps the eventfd from hanging up.
pub(crate) struct Armed {
    virqfd: NonNull<Virqfd>,
    _file: ARef<LocalFile>,
    pending: PollEvents,
}

impl Armed {
    /// The object.
    pub(crate) fn virqfd(&self) -> &Virqfd {
        // SAFETY: Live while we exist (type invariant).
        unsafe { self.virqfd.as_ref() }
    }

    /// The events already pending when it was hooked on, which no wake-up will report.
    pub(crate) fn pending(&self) -> PollEvents {
        self.pending
    }
}
