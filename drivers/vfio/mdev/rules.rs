// SPDX-License-Identifier: GPL-2.0

//! The rules of mdev's sysfs writes and of a device's life, as pure logic.
//!
//! Mirrors upstream's `create_store`/`mdev_device_create` and `remove_store`/
//! `mdev_device_remove` (`drivers/vfio/mdev/`), with one deliberate change: a `remove` that
//! finds the device still being created answers `-EAGAIN` *before* removing its `remove` file
//! (upstream removes the file first and leaves a live device without one). Kernel-independent:
//! the host build runs the tests.

use crate::errno::Errno;
use crate::guid::{
    Guid,
    UUID_STRING_LEN, //
};

/// `create_store`'s input: 36 or 37 bytes (a trailing newline, or any one byte), the first 36
/// a UUID string.
pub(crate) fn parse_create(buf: &[u8]) -> Result<Guid, Errno> {
    if buf.len() < UUID_STRING_LEN || buf.len() > UUID_STRING_LEN + 1 {
        return Err(Errno::EINVAL);
    }
    Guid::parse(buf).ok_or(Errno::EINVAL)
}

/// `kstrtoul(buf, 0, &val)` on the C string in `buf` (up to its first NUL): an optional `+`,
/// `0x` (hex), `0` (octal) or decimal digits, one optional newline. Returns whether the value
/// is non-zero; `EINVAL` where upstream's `remove_store` does (overflow included).
pub(crate) fn parse_remove(buf: &[u8]) -> Result<bool, Errno> {
    let end = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
    let mut s = &buf[..end];
    if let [b'+', rest @ ..] = s {
        s = rest;
    }
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let base: u64 = if at(s, 0) == b'0' {
        if at(s, 1).eq_ignore_ascii_case(&b'x') && at(s, 2).is_ascii_hexdigit() {
            s = &s[2..];
            16
        } else {
            8
        }
    } else {
        10
    };
    let mut value: u64 = 0;
    let mut digits = 0;
    for &c in s {
        let d = match c {
            b'0'..=b'9' => u64::from(c - b'0'),
            b'a'..=b'f' => u64::from(c - b'a' + 10),
            b'A'..=b'F' => u64::from(c - b'A' + 10),
            _ => break,
        };
        if d >= base {
            break;
        }
        value = value
            .checked_mul(base)
            .and_then(|v| v.checked_add(d))
            .ok_or(Errno::EINVAL)?;
        digits += 1;
    }
    if digits == 0 {
        return Err(Errno::EINVAL);
    }
    match &s[digits..] {
        [] | [b'\n'] => Ok(value != 0),
        _ => Err(Errno::EINVAL),
    }
}

/// `mdev_device_create`'s checks under the list lock: the UUID must be free across every
/// parent and type, then (for drivers without `get_available`) an instance must be left,
/// which the create takes. `available` is the parent's counter, `None` with `get_available`.
pub(crate) fn admit_create<'a>(
    mut existing: impl Iterator<Item = &'a Guid>,
    uuid: &Guid,
    available: Option<&mut i32>,
) -> Result<(), Errno> {
    if existing.any(|g| g == uuid) {
        return Err(Errno::EEXIST);
    }
    if let Some(n) = available {
        if *n == 0 {
            return Err(Errno::EUSERS);
        }
        *n -= 1;
    }
    Ok(())
}

/// A listed device's state as `create` and `remove` see it under the list lock.
///
/// Only `create` makes it active (after `device_add`, the driver attach and the links), and
/// only the one remover that took the `remove` file away (`device_remove_file_self`) makes it
/// inactive again.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Life {
    /// `mdev->active`.
    pub(crate) active: bool,
}

impl Life {
    /// A device being created.
    pub(crate) const fn creating() -> Self {
        Self { active: false }
    }

    /// `remove`'s first check, before it touches the file: `EAGAIN` while being created (the
    /// file stays, so the remove can be retried).
    pub(crate) fn check_remove(&self) -> Result<(), Errno> {
        if self.active {
            Ok(())
        } else {
            Err(Errno::EAGAIN)
        }
    }

    /// The remover that removed the file claims the device: from here it is not removable.
    pub(crate) fn claim(&mut self) -> Result<(), Errno> {
        self.check_remove()?;
        self.active = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: &[u8] = b"83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";

    #[test]
    fn create_lengths() {
        assert!(parse_create(U).is_ok());
        let mut nl = U.to_vec();
        nl.push(b'\n');
        assert!(parse_create(&nl).is_ok());
        // Upstream ignores the 37th byte, whatever it is.
        nl[36] = b'x';
        assert!(parse_create(&nl).is_ok());
        nl.push(b'\n');
        assert_eq!(parse_create(&nl), Err(Errno::EINVAL));
        assert_eq!(parse_create(&U[..35]), Err(Errno::EINVAL));
        assert_eq!(
            parse_create(b"not-a-uuid-not-a-uuid-not-a-uuid-xxx"),
            Err(Errno::EINVAL)
        );
    }

    #[test]
    fn remove_values_like_kstrtoul() {
        for ok in [
            &b"1"[..],
            b"1\n",
            b"+1",
            b"0x1",
            b"0X1f",
            b"017",
            b"1\0junk",
            b"99",
        ] {
            assert_eq!(parse_remove(ok), Ok(true), "{:?}", ok);
        }
        for zero in [&b"0"[..], b"0\n", b"00", b"+0", b"0x0"] {
            assert_eq!(parse_remove(zero), Ok(false), "{:?}", zero);
        }
        for bad in [
            &b""[..],
            b"\n",
            b" 1",
            b"-1",
            b"1 ",
            b"1\n\n",
            b"08",
            b"0x",
            b"x1",
            b"+",
            b"++1",
            b"18446744073709551616",
        ] {
            assert_eq!(parse_remove(bad), Err(Errno::EINVAL), "{:?}", bad);
        }
        // "0x" without a hex digit is octal 0 followed by junk.
        assert_eq!(parse_remove(b"0xg"), Err(Errno::EINVAL));
        assert_eq!(parse_remove(b"18446744073709551615"), Ok(true));
    }

    #[test]
    fn duplicate_before_instances() {
        let a = Guid::parse(U).unwrap();
        let b = Guid::parse(b"83b8f4f2-509f-382f-3c1e-e6bfe0fa1002").unwrap();
        let mut n = 0;
        assert_eq!(
            admit_create([a].iter(), &a, Some(&mut n)),
            Err(Errno::EEXIST)
        );
        assert_eq!(
            admit_create([a].iter(), &b, Some(&mut n)),
            Err(Errno::EUSERS)
        );
        n = 2;
        assert_eq!(admit_create([a].iter(), &b, Some(&mut n)), Ok(()));
        assert_eq!(n, 1);
        // With get_available the core does not count.
        assert_eq!(admit_create([a].iter(), &b, None), Ok(()));
    }

    /// Every interleaving of a create and two removers of the same device, each step taken
    /// under the list lock: a remover that gets `EAGAIN` never took the file away, and exactly
    /// one remover claims an active device.
    #[test]
    fn remove_race_keeps_the_file() {
        // Remover: 0 = check, 1 = try to remove the file, 2 = claim, 3 = done.
        fn run(order: &[u8]) {
            let mut life = Life::creating();
            let mut file = true;
            let mut step = [0u8; 2];
            let mut claimed = 0;
            for &who in order {
                if who == 2 {
                    life.active = true;
                    continue;
                }
                let r = usize::from(who);
                match step[r] {
                    0 => {
                        step[r] = if life.check_remove().is_ok() { 1 } else { 3 };
                    }
                    1 => {
                        // device_remove_file_self: only the first caller wins.
                        if file {
                            file = false;
                            step[r] = 2;
                        } else {
                            step[r] = 3;
                        }
                    }
                    2 => {
                        life.claim().unwrap();
                        claimed += 1;
                        step[r] = 3;
                    }
                    _ => {}
                }
            }
            // A device that is still active has its file; a claimed one is gone for good.
            assert!(claimed <= 1);
            if life.active {
                assert!(file, "{:?}", order);
            }
            if !file {
                assert!(claimed == 1 || step.contains(&2), "{:?}", order);
            }
        }
        // All orders of: create (2) once, each remover (0, 1) three steps.
        let mut seq = [2u8, 0, 0, 0, 1, 1, 1];
        fn permute(seq: &mut [u8], k: usize, f: &mut dyn FnMut(&[u8])) {
            if k == seq.len() {
                f(seq);
                return;
            }
            for i in k..seq.len() {
                if seq[k..i].contains(&seq[i]) {
                    continue;
                }
                seq.swap(k, i);
                permute(seq, k + 1, f);
                seq.swap(k, i);
            }
        }
        let mut n = 0;
        permute(&mut seq, 0, &mut |o| {
            run(o);
            n += 1;
        });
        assert_eq!(n, 140);
    }
}
