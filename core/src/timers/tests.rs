use std::vec;
use std::vec::Vec;

use super::*;

fn timers(slots: usize) -> Timers {
    Timers::new(Table::filled(0, slots), Table::filled(UNSET, slots))
}

/// The earliest instant by a walk of every slot, ties to the lower slot.
fn walk(model: &[Option<Instant>]) -> Option<(usize, Instant)> {
    model
        .iter()
        .enumerate()
        .filter_map(|(slot, at)| at.map(|at| (at, slot)))
        .min()
        .map(|(at, slot)| (slot, at))
}

#[test]
fn the_first_is_the_earliest_and_ties_go_to_the_lower_slot() {
    let mut timers = timers(4);
    assert_eq!(timers.first(), None);
    timers.set(2, Some(Instant(50)));
    timers.set(3, Some(Instant(20)));
    timers.set(1, Some(Instant(20)));
    assert_eq!(timers.first(), Some((1, Instant(20))));
    // A restarted clock moves back.
    timers.set(1, Some(Instant(90)));
    assert_eq!(timers.first(), Some((3, Instant(20))));
    timers.set(3, None);
    assert_eq!(timers.first(), Some((2, Instant(50))));
    assert_eq!(timers.get(3), None);
    assert_eq!(timers.get(1), Some(Instant(90)));
    // Out of the table: nothing happens.
    timers.set(9, Some(Instant(1)));
    assert_eq!(timers.first(), Some((2, Instant(50))));
}

#[test]
fn a_heap_of_a_thousand_slots_agrees_with_a_walk_of_them_through_a_million_changes() {
    const SLOTS: usize = 1000;
    let mut timers = timers(SLOTS);
    let mut model = vec![None; SLOTS];
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for step in 0..1_000_000 {
        let slot = (next() % SLOTS as u64) as usize;
        // Few distinct instants, so ties are common; a clear now and then.
        let at = match next() % 8 {
            0 => None,
            _ => Some(Instant(next() % 500)),
        };
        timers.set(slot, at);
        model[slot] = at;
        assert_eq!(timers.first(), walk(&model), "after step {step}");
    }
    let set: Vec<_> = (0..SLOTS).map(|slot| timers.get(slot)).collect();
    assert_eq!(set, model);
}

#[test]
fn taking_the_first_again_and_again_yields_every_slot_in_order() {
    let mut timers = timers(64);
    for slot in 0..64 {
        timers.set(slot, Some(Instant((slot as u64 * 37) % 11)));
    }
    let mut taken = Vec::new();
    while let Some((slot, at)) = timers.first() {
        taken.push((at, slot));
        timers.set(slot, None);
    }
    let mut sorted = taken.clone();
    sorted.sort();
    assert_eq!(taken.len(), 64);
    assert_eq!(taken, sorted);
}

#[test]
fn rows_handed_over_with_anything_in_them_start_unset() {
    let rows = Table::filled(Timer::default(), 3);
    let mut dirty = Table::filled(UNSET, 3);
    dirty[1] = Timer {
        at: Instant(5),
        place: 0,
    };
    for rows in [rows, dirty] {
        let mut timers = Timers::new(Table::filled(0, 3), rows);
        assert_eq!(timers.first(), None);
        timers.set(1, None);
        timers.set(2, Some(Instant(9)));
        assert_eq!(timers.first(), Some((2, Instant(9))));
    }
}
