// SPDX-License-Identifier: GPL-2.0

//! GUIDs as the kernel parses and prints them (`guid_parse()`, `%pUl`), as pure logic.
//!
//! C header: [`include/linux/uuid.h`](srctree/include/linux/uuid.h); C source:
//! [`lib/uuid.c`](srctree/lib/uuid.c). Kernel-independent, so the host build tests it.

/// `UUID_STRING_LEN`: `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub const UUID_STRING_LEN: usize = 36;

/// Where each byte of a `guid_t` comes from in the string: upstream's `guid_index`.
const GUID_INDEX: [usize; 16] = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
/// Where the two hex digits of the string's `i`-th byte start: upstream's `si`.
const STRING_INDEX: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/// A `guid_t`: 16 bytes in the kernel's GUID (mixed-endian) order.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Guid(pub [u8; 16]);

/// The value of one hex digit (`hex_to_bin`), either case.
fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl Guid {
    /// `guid_parse()`: the first [`UUID_STRING_LEN`] bytes of `s` must be a UUID string
    /// (`uuid_is_valid()`: dashes at 8, 13, 18 and 23, hex digits elsewhere); anything after
    /// them is ignored, as C stops reading there. `None` where upstream returns `-EINVAL`.
    pub fn parse(s: &[u8]) -> Option<Self> {
        parse_ordered(s, &GUID_INDEX).map(Self)
    }

    /// `%pUl`: the lower-case string form, the inverse of [`Guid::parse`].
    pub fn to_lower_string(self) -> [u8; UUID_STRING_LEN] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = [b'-'; UUID_STRING_LEN];
        for (i, &at) in STRING_INDEX.iter().enumerate() {
            let byte = self.0[GUID_INDEX[i]];
            s[at] = HEX[usize::from(byte >> 4)];
            s[at + 1] = HEX[usize::from(byte & 0xf)];
        }
        s
    }
}

/// A `uuid_t`: 16 bytes in string order (`uuid_parse()`), e.g. an SR-IOV VF token.
pub type Uuid = [u8; 16];

/// `uuid_parse()`: as [`Guid::parse`], the bytes in string order.
pub fn parse_uuid(s: &[u8]) -> Option<Uuid> {
    parse_ordered(s, &UUID_INDEX)
}

/// Upstream's `uuid_index`: the identity.
const UUID_INDEX: [usize; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

/// `__uuid_parse`: the string's `i`-th byte goes to `index[i]`.
fn parse_ordered(s: &[u8], index: &[usize; 16]) -> Option<[u8; 16]> {
    let s = s.get(..UUID_STRING_LEN)?;
    for (i, &c) in s.iter().enumerate() {
        let ok = match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => hex_value(c).is_some(),
        };
        if !ok {
            return None;
        }
    }
    let mut b = [0u8; 16];
    for (i, &at) in STRING_INDEX.iter().enumerate() {
        let hi = hex_value(s[at])?;
        let lo = hex_value(s[at + 1])?;
        b[index[i]] = (hi << 4) | lo;
    }
    Some(b)
}

/// `uuid_gen()`: a random (version 4) UUID.
#[cfg(MODULE)]
pub fn generate_uuid() -> Uuid {
    let mut u = kernel::bindings::uuid_t::default();
    // SAFETY: `u` is a valid `uuid_t` to fill.
    unsafe { kernel::bindings::uuid_gen(&mut u) };
    u.b
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: &[u8] = b"83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";

    #[test]
    fn parses_uuids_in_string_order() {
        assert_eq!(
            parse_uuid(U),
            Some([
                0x83, 0xb8, 0xf4, 0xf2, 0x50, 0x9f, 0x38, 0x2f, 0x3c, 0x1e, 0xe6, 0xbf, 0xe0, 0xfa,
                0x10, 0x01
            ])
        );
        assert_eq!(parse_uuid(&U[..35]), None);
        assert_eq!(parse_uuid(b"83b8f4f2x509f-382f-3c1e-e6bfe0fa1001"), None);
    }

    #[test]
    fn parses_in_guid_byte_order() {
        let g = Guid::parse(U).unwrap();
        assert_eq!(
            g.0,
            [
                0xf2, 0xf4, 0xb8, 0x83, 0x9f, 0x50, 0x2f, 0x38, 0x3c, 0x1e, 0xe6, 0xbf, 0xe0, 0xfa,
                0x10, 0x01
            ]
        );
    }

    #[test]
    fn prints_lower_case_round_trip() {
        let upper = b"83B8F4F2-509F-382F-3C1E-E6BFE0FA1001";
        let g = Guid::parse(upper).unwrap();
        assert_eq!(&g.to_lower_string()[..], U);
        assert_eq!(Guid::parse(U), Some(g));
    }

    #[test]
    fn rejects_malformed() {
        // Too short, a misplaced dash, a non-hex digit, a NUL inside.
        assert_eq!(Guid::parse(&U[..35]), None);
        assert_eq!(Guid::parse(b"83b8f4f2509f-382f-3c1e-e6bfe0fa1001-"), None);
        assert_eq!(Guid::parse(b"83b8f4f2-509f-382f-3c1e-e6bfe0fa100g"), None);
        assert_eq!(
            Guid::parse(b"83b8f4f2-509f-382f-3c1e-e6bfe0fa10\x001"),
            None
        );
        assert_eq!(Guid::parse(b"{3b8f4f2-509f-382f-3c1e-e6bfe0fa1001"), None);
    }

    #[test]
    fn ignores_what_follows() {
        let mut long = U.to_vec();
        long.extend_from_slice(b"Zjunk");
        assert_eq!(Guid::parse(&long), Guid::parse(U));
    }
}
