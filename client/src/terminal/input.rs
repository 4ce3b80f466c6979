//! One thread reads stdin for the whole session and hands every byte to the
//! async side, in order. Nothing read is ever thrown away: the bytes after
//! a line end are the start of the next line, whatever reads them.

use std::io::{self, Read};
use std::thread;

/// What the reader thread hands over.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk {
    Bytes(Vec<u8>),
    /// End of input, or an error reading (then nothing more can come).
    End,
}

/// Starts the reader thread. The thread ends at the end of input; if the
/// client ends first, it is left blocked in its read, harmless, for the
/// process to end.
pub fn start(debug: bool) -> smol::channel::Receiver<Chunk> {
    let (chunks, received) = smol::channel::unbounded();
    let spawned = thread::Builder::new()
        .name("natter-input".into())
        .spawn(move || {
            let mut stdin = io::stdin().lock();
            let mut buf = [0u8; 4096];
            loop {
                let chunk = match stdin.read(&mut buf) {
                    Ok(0) => Chunk::End,
                    Ok(n) => Chunk::Bytes(buf[..n].to_vec()),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        if debug {
                            eprintln!("[debug] reading stdin: {e}");
                        }
                        Chunk::End
                    }
                };
                let end = chunk == Chunk::End;
                if chunks.send_blocking(chunk).is_err() || end {
                    return;
                }
            }
        });
    if spawned.is_err() && debug {
        // `received` sees a closed channel: the end of input.
        eprintln!("[debug] cannot start the input thread");
    }
    received
}
