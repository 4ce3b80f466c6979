//! The memory of the hub's tables, handed over by the shell at start
//! (smoltcp's caller-owned storage, its `ManagedSlice`): slices in statics
//! on a board without a heap, or, with the `alloc` feature, allocated once
//! from the capacity the owner chose. The core never allocates after that,
//! and no table's size is compiled in.

use core::fmt;
use core::ops::{Deref, DerefMut};

/// A table of a length fixed at start.
pub enum Table<T: 'static> {
    /// Memory the shell set aside for the server's whole life.
    Borrowed(&'static mut [T]),
    /// Allocated at start (`Table::filled`).
    #[cfg(feature = "alloc")]
    Owned(alloc::boxed::Box<[T]>),
}

impl<T: Clone> Table<T> {
    /// A table of `len` copies of `value`, allocated now.
    #[cfg(feature = "alloc")]
    pub fn filled(value: T, len: usize) -> Table<T> {
        Table::Owned(alloc::vec![value; len].into_boxed_slice())
    }
}

impl<T> Deref for Table<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
            Table::Borrowed(slice) => slice,
            #[cfg(feature = "alloc")]
            Table::Owned(slice) => slice,
        }
    }
}

impl<T> DerefMut for Table<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        match self {
            Table::Borrowed(slice) => slice,
            #[cfg(feature = "alloc")]
            Table::Owned(slice) => slice,
        }
    }
}

impl<T> fmt::Debug for Table<T> {
    // Thousands of rows help nobody reading a test's failure.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Table({} rows)", self.len())
    }
}

/// A first-in first-out queue in a table: as many as the table has rows.
#[derive(Debug)]
pub struct Ring<T: 'static> {
    rows: Table<T>,
    head: usize,
    len: usize,
}

impl<T: Copy> Ring<T> {
    pub fn new(rows: Table<T>) -> Ring<T> {
        Ring {
            rows,
            head: 0,
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_full(&self) -> bool {
        self.len == self.rows.len()
    }

    /// Adds `value` at the back; gives it back if the ring is full.
    pub fn push_back(&mut self, value: T) -> Result<(), T> {
        if self.is_full() {
            return Err(value);
        }
        let at = self.index(self.len);
        self.rows[at] = value;
        self.len += 1;
        Ok(())
    }

    pub fn front(&self) -> Option<T> {
        (!self.is_empty()).then(|| self.rows[self.head])
    }

    pub fn pop_front(&mut self) -> Option<T> {
        let value = self.front()?;
        self.head = self.index(1);
        self.len -= 1;
        Some(value)
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// The rows from front to back.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        (0..self.len).map(|i| self.rows[self.index(i)])
    }

    /// The row `i` places behind the front.
    fn index(&self, i: usize) -> usize {
        let at = self.head + i;
        if at >= self.rows.len() {
            at - self.rows.len()
        } else {
            at
        }
    }
}

/// A list in a table, packed at its front: as many as the table has rows.
/// Removing swaps the last into the gap, so order is not kept.
#[derive(Debug)]
pub struct List<T: 'static> {
    rows: Table<Option<T>>,
    len: usize,
}

impl<T> List<T> {
    pub fn new(rows: Table<Option<T>>) -> List<T> {
        List { rows, len: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_full(&self) -> bool {
        self.len == self.rows.len()
    }

    /// Adds `value`; gives it back if the list is full.
    pub fn push(&mut self, value: T) -> Result<(), T> {
        let Some(row) = self.rows.get_mut(self.len) else {
            return Err(value);
        };
        *row = Some(value);
        self.len += 1;
        Ok(())
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.rows[..self.len].iter().flatten()
    }

    /// Takes out the first entry that `pick` picks, the last taking its
    /// place.
    pub fn remove_first(&mut self, pick: impl Fn(&T) -> bool) -> Option<T> {
        let index = self.iter().position(pick)?;
        self.len -= 1;
        self.rows.swap(index, self.len);
        self.rows[self.len].take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_keeps_order_across_its_end_and_refuses_when_full() {
        let mut ring = Ring::new(Table::filled(0u16, 3));
        for round in 0..5u16 {
            assert_eq!(ring.push_back(round), Ok(()));
            assert_eq!(ring.push_back(round + 100), Ok(()));
            assert_eq!(
                ring.iter().collect::<std::vec::Vec<_>>(),
                [round, round + 100]
            );
            assert_eq!(ring.pop_front(), Some(round));
            assert_eq!(ring.pop_front(), Some(round + 100));
            assert_eq!(ring.pop_front(), None);
        }
        for value in 0..3 {
            assert_eq!(ring.push_back(value), Ok(()));
        }
        assert!(ring.is_full());
        assert_eq!(ring.push_back(9), Err(9));
        assert_eq!(ring.iter().collect::<std::vec::Vec<_>>(), [0, 1, 2]);
    }

    #[test]
    fn a_list_stays_packed_as_entries_leave() {
        let mut list = List::new(Table::filled(None, 3));
        for value in [10, 20, 30] {
            assert_eq!(list.push(value), Ok(()));
        }
        assert_eq!(list.push(40), Err(40));
        assert_eq!(list.remove_first(|&v| v > 5), Some(10));
        assert_eq!(list.iter().copied().collect::<std::vec::Vec<_>>(), [30, 20]);
        assert_eq!(list.remove_first(|&v| v == 10), None);
        assert_eq!(list.push(50), Ok(()));
        assert_eq!(
            list.iter().copied().collect::<std::vec::Vec<_>>(),
            [30, 20, 50]
        );
    }

    #[test]
    fn borrowed_memory_serves_as_well() {
        let rows: &'static mut [u8] = std::boxed::Box::leak(std::vec![7u8; 4].into_boxed_slice());
        let mut table = Table::Borrowed(rows);
        table[3] = 9;
        assert_eq!(&*table, [7, 7, 7, 9]);
    }
}
