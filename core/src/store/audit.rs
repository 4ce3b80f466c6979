//! The store checked whole, for the simulator (issue 25): every chunk is
//! in exactly one letter or the free list, and every count and share
//! agrees with the letters there are.

use std::format;
use std::string::String;
use std::vec;

use super::{FLAGS, KEPT, Link, NIL, SENDER, Store, at, le};

impl Store {
    /// Every chunk accounted for; the first inconsistency found, if any.
    pub fn audit(&self) -> Result<(), String> {
        // Who holds each chunk: 0 free, 1 + mailbox index otherwise.
        let chunk_count = self.capacity();
        let mut owner = vec![usize::MAX; chunk_count];
        let mut claim = |chunk: Link, by: usize| -> Result<(), String> {
            let slot = owner
                .get_mut(at(chunk))
                .ok_or_else(|| format!("link to chunk {chunk}, past the arena"))?;
            if *slot != usize::MAX {
                return Err(format!("chunk {chunk} is held twice ({} and {by})", *slot));
            }
            *slot = by;
            Ok(())
        };
        let mut free = 0;
        let mut next = self.free;
        while next != NIL {
            claim(next, 0)?;
            free += 1;
            next = self.links[at(next)];
        }
        if free != self.free_chunks {
            return Err(format!("{free} chunks free, counted {}", self.free_chunks));
        }
        let mut kept = vec![0u16; self.boxes.len()];
        let mut newcomer_chunks = 0;
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
                    claim(chunk, 1 + to)?;
                    size += 1;
                    chunk = self.links[at(chunk)];
                }
                let header = self.chunk(head);
                if header[FLAGS] & KEPT != 0 {
                    let sender = usize::from(u16::from_le_bytes(le(&header[SENDER..])));
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
            if mailbox.newcomer {
                newcomer_chunks += usize::from(chunks);
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
        let claimed = free
            + self
                .boxes
                .iter()
                .map(|b| usize::from(b.chunks))
                .sum::<usize>();
        if claimed != chunk_count {
            return Err(format!(
                "{claimed} chunks free or in letters, of {chunk_count}"
            ));
        }
        for (user, (&kept, mailbox)) in kept.iter().zip(self.boxes.iter()).enumerate() {
            if kept != mailbox.kept {
                return Err(format!(
                    "user {user} keeps {kept} chunks, counted {}",
                    mailbox.kept
                ));
            }
        }
        if newcomer_chunks != self.newcomer_chunks {
            return Err(format!(
                "newcomers' letters take {newcomer_chunks} chunks, counted {}",
                self.newcomer_chunks
            ));
        }
        Ok(())
    }
}
