// SPDX-License-Identifier: GPL-2.0

//! vfio-pci's `ids=` module parameter and its device denylist, as pure logic.
//!
//! Upstream (`drivers/vfio/pci/vfio_pci.c`, `vfio_pci_fill_ids`) splits the parameter at
//! commas, skips empty entries and reads each with the kernel's
//! `sscanf(id, "%x:%x:%x:%x:%x:%x", ...)`: fewer than two fields is an invalid entry (a
//! warning, the rest still load). The kernel's `%x` has its own rules, kept here exactly:
//! leading white space is skipped, a `0x`/`0X` prefix is eaten even with no digit after it
//! (the field is then 0), there is no sign, digits saturate at `u64::MAX` and the value is
//! truncated to `unsigned int`, and whatever follows the last matched field is ignored.

/// `PCI_ANY_ID`: the subvendor/subdevice wildcard of an entry that does not name them.
pub(crate) const PCI_ANY_ID: u32 = !0;

/// One dynamic id to add with `pci_add_dynid`, as upstream fills it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DynId {
    /// Vendor id (first field).
    pub vendor: u32,
    /// Device id (second field).
    pub device: u32,
    /// Subsystem vendor, [`PCI_ANY_ID`] when absent.
    pub subvendor: u32,
    /// Subsystem device, [`PCI_ANY_ID`] when absent.
    pub subdevice: u32,
    /// Class code, 0 when absent.
    pub class: u32,
    /// Class mask, 0 when absent.
    pub class_mask: u32,
}

/// One non-empty comma-separated entry of `ids=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IdEntry<'a> {
    /// At least vendor and device parsed.
    Valid(DynId),
    /// Fewer than two fields: upstream warns `invalid id string "<entry>"` and goes on.
    Invalid(&'a [u8]),
}

/// The entries of an `ids=` value in order (empty entries skipped, as `strsep` + `strlen`).
pub(crate) fn entries(ids: &[u8]) -> impl Iterator<Item = IdEntry<'_>> {
    // The parameter is a C string: nothing after a NUL counts.
    let end = ids.iter().position(|&b| b == 0).unwrap_or(ids.len());
    ids[..end]
        .split(|&b| b == b',')
        .filter(|e| !e.is_empty())
        .map(parse_entry)
}

/// Parses one entry as upstream's `sscanf(id, "%x:%x:%x:%x:%x:%x", ...)`.
pub(crate) fn parse_entry(id: &[u8]) -> IdEntry<'_> {
    let mut fields = [0u32; 6];
    let n = scan_hex_fields(id, &mut fields);
    if n < 2 {
        return IdEntry::Invalid(id);
    }
    let or = |i: usize, default: u32| if i < n { fields[i] } else { default };
    IdEntry::Valid(DynId {
        vendor: fields[0],
        device: fields[1],
        subvendor: or(2, PCI_ANY_ID),
        subdevice: or(3, PCI_ANY_ID),
        class: or(4, 0),
        class_mask: or(5, 0),
    })
}

/// The kernel's `isspace()` (`lib/ctype.c`: the ASCII white space and Latin-1 NBSP).
fn is_space(c: u8) -> bool {
    matches!(c, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | 0xa0)
}

fn hex_value(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}

/// `vsscanf` for a format of `out.len()` `%x` conversions separated by `:`: fills `out`
/// from the front and returns how many conversions succeeded.
fn scan_hex_fields(s: &[u8], out: &mut [u32]) -> usize {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut pos = 0;
    for (n, slot) in out.iter_mut().enumerate() {
        if n > 0 {
            // A literal in the format must match exactly.
            if at(pos) != b':' {
                return n;
            }
            pos += 1;
        }
        // A conversion needs input left; `%x` then skips white space and needs a hex
        // digit to start with.
        if at(pos) == 0 {
            return n;
        }
        while is_space(at(pos)) {
            pos += 1;
        }
        if hex_value(at(pos)).is_none() {
            return n;
        }
        // `_parse_integer_fixup_radix` eats "0x" in base 16 without looking further.
        if at(pos) == b'0' && at(pos + 1).eq_ignore_ascii_case(&b'x') {
            pos += 2;
        }
        let mut value: u64 = 0;
        while let Some(d) = hex_value(at(pos)) {
            value = value
                .checked_mul(16)
                .and_then(|v| v.checked_add(u64::from(d)))
                .unwrap_or(u64::MAX);
            pos += 1;
        }
        // Stored through an `unsigned int *`.
        *slot = value as u32;
    }
    out.len()
}

/// `PCI_VENDOR_ID_INTEL`.
const PCI_VENDOR_ID_INTEL: u16 = 0x8086;

/// Intel devices upstream refuses to bind unless `disable_denylist` is set
/// (`vfio_pci_dev_in_denylist`): QAT C3XXX, C62X, DH895XCC and their VFs, DSA and IAX on SPR.
const INTEL_DENYLIST: [u16; 8] = [
    0x19e2, 0x19e3, 0x37c8, 0x37c9, 0x0435, 0x0443, 0x0b25, 0x0cfe,
];

/// Whether a device is on vfio-pci's denylist (`vfio_pci_dev_in_denylist`).
pub(crate) fn in_denylist(vendor: u16, device: u16) -> bool {
    vendor == PCI_VENDOR_ID_INTEL && INTEL_DENYLIST.contains(&device)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(v: u32, d: u32, sv: u32, sd: u32, c: u32, cm: u32) -> IdEntry<'static> {
        IdEntry::Valid(DynId {
            vendor: v,
            device: d,
            subvendor: sv,
            subdevice: sd,
            class: c,
            class_mask: cm,
        })
    }

    #[test]
    fn two_to_six_fields() {
        assert_eq!(parse_entry(b"8086:10c9"), id(0x8086, 0x10c9, !0, !0, 0, 0));
        assert_eq!(
            parse_entry(b"1234:11e8:1af4"),
            id(0x1234, 0x11e8, 0x1af4, !0, 0, 0)
        );
        assert_eq!(
            parse_entry(b"ffffffff:ffffffff:0:0:30000:ffff00"),
            id(!0, !0, 0, 0, 0x30000, 0xffff00)
        );
    }

    #[test]
    fn fewer_than_two_fields_is_invalid() {
        for bad in [
            &b"8086"[..],
            b"8086:",
            b"8086:zz",
            b"zz:1",
            b":10c9",
            b"8086;10c9",
        ] {
            assert_eq!(parse_entry(bad), IdEntry::Invalid(bad), "{bad:?}");
        }
    }

    #[test]
    fn kernel_percent_x_rules() {
        // Leading white space before each number, not before the colon.
        assert_eq!(
            parse_entry(b" 8086: 10c9"),
            id(0x8086, 0x10c9, !0, !0, 0, 0)
        );
        assert_eq!(parse_entry(b"8086 :10c9"), IdEntry::Invalid(b"8086 :10c9"));
        // "0x" prefixes, also a bare one (value 0).
        assert_eq!(
            parse_entry(b"0x8086:0X10c9"),
            id(0x8086, 0x10c9, !0, !0, 0, 0)
        );
        assert_eq!(parse_entry(b"0x:1"), id(0, 1, !0, !0, 0, 0));
        // No sign for %x.
        assert_eq!(parse_entry(b"-1:1"), IdEntry::Invalid(b"-1:1"));
        // Trailing junk after a field stops the scan, keeping what matched.
        assert_eq!(
            parse_entry(b"8086:10c9junk"),
            id(0x8086, 0x10c9, !0, !0, 0, 0)
        );
        assert_eq!(
            parse_entry(b"8086:10c9:1:"),
            id(0x8086, 0x10c9, 1, !0, 0, 0)
        );
        // Saturation at u64::MAX, then truncation to unsigned int.
        assert_eq!(parse_entry(b"123456789:1"), id(0x23456789, 1, !0, !0, 0, 0));
        assert_eq!(parse_entry(b"11112222333344445:1"), id(!0, 1, !0, !0, 0, 0));
    }

    #[test]
    fn entries_split_at_commas_and_stop_at_nul() {
        let got: Vec<_> = entries(b",8086:10c9,,bad,1234:11e8,\0ffff:ffff").collect();
        assert_eq!(
            got,
            [
                id(0x8086, 0x10c9, !0, !0, 0, 0),
                IdEntry::Invalid(b"bad"),
                id(0x1234, 0x11e8, !0, !0, 0, 0)
            ]
        );
        assert_eq!(entries(b"").count(), 0);
    }

    #[test]
    fn denylist() {
        assert!(in_denylist(0x8086, 0x0b25));
        assert!(in_denylist(0x8086, 0x37c9));
        assert!(!in_denylist(0x8086, 0x10c9));
        assert!(!in_denylist(0x1234, 0x0b25));
    }
}
