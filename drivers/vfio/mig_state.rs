// SPDX-License-Identifier: GPL-2.0

//! The migration state machine of `VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE`, as pure logic.
//!
//! Mirrors upstream's `vfio_mig_get_next_state`: a driver asks for the next state to step to on
//! the way from its current state to the one userspace asked for. The table only uses the arcs
//! a driver must implement for its `migration_flags`; arcs through states the driver lacks
//! (P2P, pre-copy) are skipped by looking up the table again from the skipped state.
//! Kernel-independent: the host build runs the tests.

/// `enum vfio_device_mig_state` values (uapi).
pub(crate) const ERROR: u32 = 0;
/// `VFIO_DEVICE_STATE_STOP`.
pub(crate) const STOP: u32 = 1;
/// `VFIO_DEVICE_STATE_RUNNING`.
pub(crate) const RUNNING: u32 = 2;
/// `VFIO_DEVICE_STATE_STOP_COPY`.
pub(crate) const STOP_COPY: u32 = 3;
/// `VFIO_DEVICE_STATE_RESUMING`.
pub(crate) const RESUMING: u32 = 4;
/// `VFIO_DEVICE_STATE_RUNNING_P2P`.
pub(crate) const RUNNING_P2P: u32 = 5;
/// `VFIO_DEVICE_STATE_PRE_COPY`.
pub(crate) const PRE_COPY: u32 = 6;
/// `VFIO_DEVICE_STATE_PRE_COPY_P2P`.
pub(crate) const PRE_COPY_P2P: u32 = 7;
/// Number of states the table knows (upstream's `VFIO_DEVICE_NUM_STATES`).
pub(crate) const NUM_STATES: u32 = 8;

/// `VFIO_MIGRATION_STOP_COPY`: the base feature every migratable driver has.
pub(crate) const MIGRATION_STOP_COPY: u32 = 1 << 0;
/// `VFIO_MIGRATION_P2P`: the driver has the `*_P2P` states.
pub(crate) const MIGRATION_P2P: u32 = 1 << 1;
/// `VFIO_MIGRATION_PRE_COPY`: the driver has the `PRE_COPY*` states.
pub(crate) const MIGRATION_PRE_COPY: u32 = 1 << 2;

/// Why no next state was computed; each is `-EINVAL` for the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MigError {
    /// The driver's current state is unknown or unsupported: a driver bug (upstream WARNs).
    BadCurrent,
    /// The requested state is unknown or unsupported by the driver.
    BadNew,
    /// No path leads there (`STOP_COPY` to a pre-copy state); the next state is `ERROR`.
    Blocked,
}

const S: u32 = STOP;
const R: u32 = RUNNING;
const SC: u32 = STOP_COPY;
const RS: u32 = RESUMING;
const RP: u32 = RUNNING_P2P;
const PC: u32 = PRE_COPY;
const PP: u32 = PRE_COPY_P2P;
const E: u32 = ERROR;

/// `NEXT[from][to]`: the first step from `from` towards `to`, assuming the driver has every
/// optional state. Columns, like rows, are in state order: ERROR, STOP, RUNNING, STOP_COPY,
/// RESUMING, RUNNING_P2P, PRE_COPY, PRE_COPY_P2P.
const NEXT: [[u32; NUM_STATES as usize]; NUM_STATES as usize] = [
    /* ERROR        */ [E, E, E, E, E, E, E, E],
    /* STOP         */ [E, S, RP, SC, RS, RP, RP, RP],
    /* RUNNING      */ [E, RP, R, RP, RP, RP, PC, RP],
    /* STOP_COPY    */ [E, S, S, SC, S, S, E, E],
    /* RESUMING     */ [E, S, S, S, RS, S, S, S],
    /* RUNNING_P2P  */ [E, S, R, S, S, RP, R, PP],
    /* PRE_COPY     */ [E, R, R, PP, R, R, PC, PP],
    /* PRE_COPY_P2P */ [E, RP, RP, SC, RP, RP, PC, PP],
];

/// The `migration_flags` bits a driver needs for each state; `ERROR` needs all bits, so it is
/// never a valid current or requested state for a real driver.
const NEEDS: [u32; NUM_STATES as usize] = [
    u32::MAX,
    MIGRATION_STOP_COPY,
    MIGRATION_STOP_COPY,
    MIGRATION_STOP_COPY,
    MIGRATION_STOP_COPY,
    MIGRATION_STOP_COPY | MIGRATION_P2P,
    MIGRATION_STOP_COPY | MIGRATION_PRE_COPY,
    MIGRATION_STOP_COPY | MIGRATION_P2P | MIGRATION_PRE_COPY,
];

/// Whether `state` exists and the driver with `flags` has it.
fn supported(state: u32, flags: u32) -> bool {
    state < NUM_STATES && NEEDS[state as usize] & flags == NEEDS[state as usize]
}

/// The next state for a driver with `migration_flags` to step to from `cur` towards `new`
/// (`cur` itself when they are equal).
pub(crate) fn next_state(migration_flags: u32, cur: u32, new: u32) -> Result<u32, MigError> {
    if !supported(cur, migration_flags) {
        return Err(MigError::BadCurrent);
    }
    if !supported(new, migration_flags) {
        return Err(MigError::BadNew);
    }
    let mut next = NEXT[cur as usize][new as usize];
    // Skip states the driver lacks. Every lookup moves closer to `new` (host tests walk all
    // pairs), so the bound is never reached; it only keeps a bad table from looping.
    for _ in 0..NUM_STATES {
        if next == ERROR || supported(next, migration_flags) {
            break;
        }
        next = NEXT[next as usize][new as usize];
    }
    if next == ERROR || !supported(next, migration_flags) {
        return Err(MigError::Blocked);
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: u32 = MIGRATION_STOP_COPY | MIGRATION_P2P | MIGRATION_PRE_COPY;

    /// The arcs upstream's comment says a driver with `flags` must implement: the only single
    /// steps the state machine may ask of it.
    fn required_arc(flags: u32, from: u32, to: u32) -> bool {
        let p2p = flags & MIGRATION_P2P != 0;
        let pre = flags & MIGRATION_PRE_COPY != 0;
        let base = [
            (RESUMING, STOP),
            (STOP, RESUMING),
            (STOP, STOP_COPY),
            (STOP_COPY, STOP),
        ];
        let with_p2p = [
            (RUNNING, RUNNING_P2P),
            (RUNNING_P2P, RUNNING),
            (RUNNING_P2P, STOP),
            (STOP, RUNNING_P2P),
        ];
        let without_p2p = [(RUNNING, STOP), (STOP, RUNNING)];
        let pre_only = [
            (RUNNING, PRE_COPY),
            (PRE_COPY, RUNNING),
            (PRE_COPY, STOP_COPY),
        ];
        let pre_and_p2p = [
            (PRE_COPY, RUNNING),
            (PRE_COPY, PRE_COPY_P2P),
            (PRE_COPY_P2P, PRE_COPY),
            (PRE_COPY_P2P, RUNNING_P2P),
            (PRE_COPY_P2P, STOP_COPY),
            (RUNNING, PRE_COPY),
            (RUNNING_P2P, PRE_COPY_P2P),
        ];
        let arc = (from, to);
        base.contains(&arc)
            || (p2p && with_p2p.contains(&arc))
            || (!p2p && without_p2p.contains(&arc))
            || (pre && !p2p && pre_only.contains(&arc))
            || (pre && p2p && pre_and_p2p.contains(&arc))
    }

    /// Whether a driver with `flags` has `state`, written from the uapi documentation.
    fn has_state(flags: u32, state: u32) -> bool {
        if flags & MIGRATION_STOP_COPY == 0 {
            return false;
        }
        match state {
            STOP | RUNNING | STOP_COPY | RESUMING => true,
            RUNNING_P2P => flags & MIGRATION_P2P != 0,
            PRE_COPY => flags & MIGRATION_PRE_COPY != 0,
            PRE_COPY_P2P => flags & ALL == ALL,
            _ => false,
        }
    }

    /// Steps from `cur` to `new` as a driver would; the states visited after `cur`.
    fn walk(flags: u32, cur: u32, new: u32) -> Result<Vec<u32>, MigError> {
        let mut path = Vec::new();
        let mut at = cur;
        while at != new {
            at = next_state(flags, at, new)?;
            path.push(at);
            assert!(
                path.len() <= 5,
                "{cur} -> {new} with {flags:#x} does not converge"
            );
        }
        Ok(path)
    }

    /// Every `migration_flags` combination of the three features, with and without unknown
    /// high bits (which must not matter).
    fn flag_sets() -> Vec<u32> {
        (0..8)
            .flat_map(|f| [f, f | 0x100, f | 0x8000_0000])
            .collect()
    }

    #[test]
    fn every_pair_for_every_feature_set() {
        for flags in flag_sets() {
            for cur in 0..NUM_STATES + 2 {
                for new in 0..NUM_STATES + 2 {
                    let r = next_state(flags, cur, new);
                    if !has_state(flags, cur) {
                        assert_eq!(r, Err(MigError::BadCurrent), "{flags:#x} {cur}->{new}");
                        continue;
                    }
                    if !has_state(flags, new) {
                        assert_eq!(r, Err(MigError::BadNew), "{flags:#x} {cur}->{new}");
                        continue;
                    }
                    if cur == STOP_COPY && (new == PRE_COPY || new == PRE_COPY_P2P) {
                        assert_eq!(r, Err(MigError::Blocked), "{flags:#x} {cur}->{new}");
                        continue;
                    }
                    if cur == new {
                        assert_eq!(r, Ok(cur));
                        continue;
                    }
                    let path = walk(flags, cur, new).unwrap();
                    let mut from = cur;
                    for &to in &path {
                        assert!(has_state(flags, to), "{flags:#x} {cur}->{new}: {path:?}");
                        assert!(
                            required_arc(flags, from, to),
                            "{flags:#x} {cur}->{new}: arc {from}->{to} not required"
                        );
                        from = to;
                    }
                }
            }
        }
    }

    #[test]
    fn full_feature_paths_are_upstreams_documented_ones() {
        // Upstream's list of multi-step transitions when every feature is present; any other
        // pair of distinct states is a single arc.
        let multi: &[&[u32]] = &[
            &[PRE_COPY, PRE_COPY_P2P, STOP_COPY],
            &[PRE_COPY, RUNNING, RUNNING_P2P],
            &[PRE_COPY, RUNNING, RUNNING_P2P, STOP],
            &[PRE_COPY, RUNNING, RUNNING_P2P, STOP, RESUMING],
            &[PRE_COPY_P2P, RUNNING_P2P, RUNNING],
            &[PRE_COPY_P2P, RUNNING_P2P, STOP],
            &[PRE_COPY_P2P, RUNNING_P2P, STOP, RESUMING],
            &[RESUMING, STOP, RUNNING_P2P],
            &[RESUMING, STOP, RUNNING_P2P, PRE_COPY_P2P],
            &[RESUMING, STOP, RUNNING_P2P, RUNNING],
            &[RESUMING, STOP, RUNNING_P2P, RUNNING, PRE_COPY],
            &[RESUMING, STOP, STOP_COPY],
            &[RUNNING, RUNNING_P2P, PRE_COPY_P2P],
            &[RUNNING, RUNNING_P2P, STOP],
            &[RUNNING, RUNNING_P2P, STOP, RESUMING],
            &[RUNNING, RUNNING_P2P, STOP, STOP_COPY],
            &[RUNNING_P2P, RUNNING, PRE_COPY],
            &[RUNNING_P2P, STOP, RESUMING],
            &[RUNNING_P2P, STOP, STOP_COPY],
            &[STOP, RUNNING_P2P, PRE_COPY_P2P],
            &[STOP, RUNNING_P2P, RUNNING],
            &[STOP, RUNNING_P2P, RUNNING, PRE_COPY],
            &[STOP_COPY, STOP, RESUMING],
            &[STOP_COPY, STOP, RUNNING_P2P],
            &[STOP_COPY, STOP, RUNNING_P2P, RUNNING],
        ];
        for cur in STOP..NUM_STATES {
            for new in STOP..NUM_STATES {
                if cur == new || (cur == STOP_COPY && (new == PRE_COPY || new == PRE_COPY_P2P)) {
                    continue;
                }
                let expected: Vec<u32> =
                    match multi.iter().find(|p| p[0] == cur && p[p.len() - 1] == new) {
                        Some(p) => p[1..].to_vec(),
                        None => vec![new],
                    };
                assert_eq!(walk(ALL, cur, new), Ok(expected), "{cur} -> {new}");
            }
        }
    }

    #[test]
    fn without_optional_states_arcs_are_skipped() {
        let base = MIGRATION_STOP_COPY;
        assert_eq!(walk(base, RUNNING, STOP), Ok(vec![STOP]));
        assert_eq!(walk(base, RUNNING, STOP_COPY), Ok(vec![STOP, STOP_COPY]));
        assert_eq!(walk(base, RESUMING, RUNNING), Ok(vec![STOP, RUNNING]));
        assert_eq!(walk(base, STOP_COPY, RUNNING), Ok(vec![STOP, RUNNING]));
        let pre = MIGRATION_STOP_COPY | MIGRATION_PRE_COPY;
        assert_eq!(walk(pre, PRE_COPY, STOP_COPY), Ok(vec![STOP_COPY]));
        assert_eq!(walk(pre, PRE_COPY, STOP), Ok(vec![RUNNING, STOP]));
        assert_eq!(walk(pre, STOP, PRE_COPY), Ok(vec![RUNNING, PRE_COPY]));
        let p2p = MIGRATION_STOP_COPY | MIGRATION_P2P;
        assert_eq!(
            walk(p2p, RUNNING, STOP_COPY),
            Ok(vec![RUNNING_P2P, STOP, STOP_COPY])
        );
    }

    #[test]
    fn errors() {
        // No STOP_COPY: not migratable, every state is unsupported.
        assert_eq!(
            next_state(MIGRATION_P2P, STOP, RUNNING),
            Err(MigError::BadCurrent)
        );
        assert_eq!(next_state(ALL, ERROR, STOP), Err(MigError::BadCurrent));
        assert_eq!(next_state(ALL, NUM_STATES, STOP), Err(MigError::BadCurrent));
        assert_eq!(next_state(ALL, STOP, ERROR), Err(MigError::BadNew));
        assert_eq!(next_state(ALL, STOP, u32::MAX), Err(MigError::BadNew));
        assert_eq!(
            next_state(MIGRATION_STOP_COPY, STOP, RUNNING_P2P),
            Err(MigError::BadNew)
        );
        assert_eq!(next_state(ALL, STOP_COPY, PRE_COPY), Err(MigError::Blocked));
        assert_eq!(
            next_state(ALL, STOP_COPY, PRE_COPY_P2P),
            Err(MigError::Blocked)
        );
        // A driver claiming every flag bit "has" ERROR: the table has no way out of it.
        assert_eq!(next_state(u32::MAX, ERROR, STOP), Err(MigError::Blocked));
        assert_eq!(next_state(u32::MAX, STOP, ERROR), Err(MigError::Blocked));
    }
}
