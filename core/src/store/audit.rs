//! The store checked whole, for the simulator (issue 25): every chunk is
//! in exactly one letter or the free list, and every count and share
//! agrees with the letters there are.

use std::format;
use std::string::String;

use super::{CHUNKS, KEPT, NIL, Store};
use crate::limits::MAX_ACCOUNTS;

impl Store {
    /// Every chunk accounted for; the first inconsistency found, if any.
    pub fn audit(&self) -> Result<(), String> {
        // Who holds each chunk: 0 free, 1 + mailbox index otherwise.
        let mut owner = [u16::MAX; CHUNKS];
        let mut claim = |chunk: u16, by: u16| -> Result<(), String> {
            let slot = owner
                .get_mut(usize::from(chunk))
                .ok_or_else(|| format!("link to chunk {chunk}, past the arena"))?;
            if *slot != u16::MAX {
                return Err(format!("chunk {chunk} is held twice ({} and {by})", *slot));
            }
            *slot = by;
            Ok(())
        };
        let mut free = 0;
        let mut at = self.free;
        while at != NIL {
            claim(at, 0)?;
            free += 1;
            at = self.links[usize::from(at)];
        }
        if free != self.free_chunks {
            return Err(format!("{free} chunks free, counted {}", self.free_chunks));
        }
        let mut kept = [0u16; MAX_ACCOUNTS];
        for (to, mailbox) in self.boxes.iter().enumerate() {
            let (mut letters, mut chunks, mut last_id, mut last) = (0, 0, 0, NIL);
            let mut head = mailbox.first;
            while head != NIL {
                let id = self.id_of(head);
                if id <= last_id || id >= self.next_id {
                    return Err(format!("mailbox {to}: id {id} after {last_id}"));
                }
                let mut size = 0;
                let mut chunk = head;
                while chunk != NIL {
                    claim(chunk, 1 + to as u16)?;
                    size += 1;
                    chunk = self.links[usize::from(chunk)];
                }
                let flags = self.chunks[usize::from(head)][21];
                if flags & KEPT != 0 {
                    let sender = usize::from(self.chunks[usize::from(head)][22]);
                    let share = kept
                        .get_mut(sender)
                        .ok_or_else(|| format!("letter {id} from sender {sender}"))?;
                    *share += size;
                }
                letters += 1;
                chunks += size;
                last_id = id;
                last = head;
                head = self.next_letter(head);
            }
            if (letters, chunks, last) != (mailbox.letters, mailbox.chunks, mailbox.last) {
                return Err(format!(
                    "mailbox {to}: {letters} letters in {chunks} chunks, counted {} in {}",
                    mailbox.letters, mailbox.chunks
                ));
            }
        }
        // Each chunk claimed at most once: all claimed if as many as there
        // are.
        let claimed = usize::from(free)
            + self
                .boxes
                .iter()
                .map(|b| usize::from(b.chunks))
                .sum::<usize>();
        if claimed != CHUNKS {
            return Err(format!("{claimed} chunks free or in letters, of {CHUNKS}"));
        }
        if kept != self.kept_by {
            return Err(format!("kept shares {kept:?}, counted {:?}", self.kept_by));
        }
        Ok(())
    }
}
