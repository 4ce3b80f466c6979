//! When each connection next needs the hub (`Hub::poll_timeout`): a
//! binary min-heap of connection slots keyed by instant, indexed by slot so
//! that a slot's instant moves in O(log n) (every command restarts an idle
//! clock). The next deadline is the heap's top, whatever the number of
//! connections. Equal instants go to the lower slot, so the order in which
//! deadlines are handled is the same on every run.

use crate::table::Table;
use crate::time::Instant;

/// A slot's row: its instant, and its place in the heap. A new row has
/// none (`UNSET`, also its `Default`).
#[derive(Clone, Copy, Debug)]
pub struct Timer {
    at: Instant,
    place: u16,
}

/// The place of a slot that has no instant.
const ABSENT: u16 = u16::MAX;

/// A timer row for a slot with none set.
pub const UNSET: Timer = Timer {
    at: Instant(0),
    place: ABSENT,
};

impl Default for Timer {
    fn default() -> Self {
        UNSET
    }
}

/// Each connection slot's next instant, if any, in a heap.
#[derive(Debug)]
pub struct Timers {
    /// Slots in heap order: each before the two at `2i + 1` and `2i + 2`.
    heap: Table<u16>,
    len: usize,
    /// A row per slot (`UNSET` when it has no instant).
    rows: Table<Timer>,
}

impl Timers {
    /// No instant set, for as many slots as `rows` has (`heap` as long),
    /// whatever the rows held. Slots are at most `capacity::CEILING`, below
    /// [`ABSENT`].
    pub fn new(heap: Table<u16>, mut rows: Table<Timer>) -> Timers {
        rows.fill(UNSET);
        Timers { heap, len: 0, rows }
    }

    /// The earliest instant set, and its slot.
    pub fn first(&self) -> Option<(usize, Instant)> {
        let slot = usize::from(*self.heap[..self.len].first()?);
        Some((slot, self.rows[slot].at))
    }

    /// `slot`'s instant, if set.
    pub fn get(&self, slot: usize) -> Option<Instant> {
        let row = self.rows.get(slot)?;
        (row.place != ABSENT).then_some(row.at)
    }

    /// Sets `slot`'s instant, or clears it (`None`). Slots beyond the
    /// table are ignored.
    pub fn set(&mut self, slot: usize, at: Option<Instant>) {
        let Some(row) = self.rows.get(slot).copied() else {
            return;
        };
        match (at, row.place) {
            (None, ABSENT) => {}
            (None, place) => self.remove(usize::from(place)),
            (Some(at), ABSENT) => {
                let place = self.len;
                self.len += 1;
                // Slots are below ABSENT (see `new`).
                self.heap[place] = slot as u16;
                self.rows[slot] = Timer {
                    at,
                    place: place as u16,
                };
                self.sift_up(place);
            }
            (Some(at), place) if at != row.at => {
                self.rows[slot].at = at;
                let place = usize::from(place);
                if at < row.at {
                    self.sift_up(place);
                } else {
                    self.sift_down(place);
                }
            }
            _ => {}
        }
    }

    /// Takes the slot at heap place `place` out, the last taking its place.
    fn remove(&mut self, place: usize) {
        let slot = usize::from(self.heap[place]);
        self.rows[slot] = UNSET;
        self.len -= 1;
        if place == self.len {
            return;
        }
        let moved = self.heap[self.len];
        self.heap[place] = moved;
        self.seat(place);
        self.sift_up(place);
        self.sift_down(usize::from(self.rows[usize::from(moved)].place));
    }

    fn sift_up(&mut self, mut place: usize) {
        while place > 0 {
            let parent = (place - 1) / 2;
            if !self.before(place, parent) {
                break;
            }
            self.swap(place, parent);
            place = parent;
        }
    }

    fn sift_down(&mut self, mut place: usize) {
        loop {
            let mut first = place;
            for child in [2 * place + 1, 2 * place + 2] {
                if child < self.len && self.before(child, first) {
                    first = child;
                }
            }
            if first == place {
                return;
            }
            self.swap(place, first);
            place = first;
        }
    }

    /// Whether the slot at heap place `a` comes before the one at `b`.
    fn before(&self, a: usize, b: usize) -> bool {
        let key = |place: usize| {
            let slot = self.heap[place];
            (self.rows[usize::from(slot)].at, slot)
        };
        key(a) < key(b)
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.seat(a);
        self.seat(b);
    }

    /// Records in its row where the slot at heap place `place` is.
    fn seat(&mut self, place: usize) {
        let slot = usize::from(self.heap[place]);
        self.rows[slot].place = place as u16;
    }
}

#[cfg(test)]
mod tests;
