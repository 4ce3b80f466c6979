//! Files written whole or not at all, and held by one server at a time:
//! the credentials file and the journal.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Replaces the file at `path` (open and locked as `old`) with
/// `contents`, whole or not at all: a new file beside it, synced, renamed
/// over it, and the directory synced. It keeps the old file's mode and,
/// when root runs this for a service's file, its owner. Returns the new
/// file, open for appending and locked before it took the name, so nobody
/// can lock the file at `path` between the rename and our lock.
pub fn replace_file(path: &Path, old: &File, contents: &[u8]) -> io::Result<File> {
    replace_file_via(&temp_path(path), path, old, contents)
}

/// Where `replace_file` writes the new file: `path` and `.new`.
pub fn temp_path(path: &Path) -> std::path::PathBuf {
    let mut temp = path.as_os_str().to_owned();
    temp.push(".new");
    temp.into()
}

/// `replace_file` through the new file `temp` (`temp_path`), named
/// beforehand: no allocation when nothing fails.
pub fn replace_file_via(temp: &Path, path: &Path, old: &File, contents: &[u8]) -> io::Result<File> {
    use std::os::unix::fs::MetadataExt;
    let meta = old.metadata()?;
    let result = (|| {
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(temp)?;
        lock(&file)?;
        // Left by a rewrite that failed half-way, perhaps.
        file.set_len(0)?;
        file.set_permissions(meta.permissions())?;
        if let Err(error) = std::os::unix::fs::fchown(&file, Some(meta.uid()), Some(meta.gid())) {
            // Only root may give a file away; whoever else rewrites it
            // must own it already, or its owner would lose it.
            let new = file.metadata()?;
            if (new.uid(), new.gid()) != (meta.uid(), meta.gid()) {
                return Err(error);
            }
        }
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(temp, path)?;
        Ok(file)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(temp);
        return result;
    }
    // The new file has the name now, whatever follows: it is the one to
    // keep, and hold. A directory that fails its sync may lose the rename
    // in a power cut, which leaves the old file, whole.
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Err(error) = File::open(dir.unwrap_or(Path::new("."))).and_then(|d| d.sync_all()) {
        eprintln!(
            "natter-server: {}: syncing its directory: {error}",
            path.display()
        );
    }
    result
}

/// Opens `path` for reading and appending, locks it (`lock`) and reads it
/// whole. If the file was replaced while we waited for the lock, the lock
/// is on a file nobody uses any more: open the new one.
pub fn open_locked(path: &Path) -> io::Result<(File, Vec<u8>)> {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    loop {
        let mut file = OpenOptions::new().read(true).append(true).open(path)?;
        lock(&file)?;
        let (held, named) = (file.metadata()?, std::fs::metadata(path)?);
        if (held.dev(), held.ino()) == (named.dev(), named.ino()) {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)?;
            return Ok((file, bytes));
        }
    }
}

/// Takes an exclusive lock on the file, or says who holds it: a running
/// server holds it, so `natter-server user` never rewrites the file under
/// it (its appends would go to the old file).
pub fn lock(file: &File) -> io::Result<()> {
    use rustix::fs::{FlockOperation, flock};
    flock(file, FlockOperation::NonBlockingLockExclusive).map_err(|errno| {
        if errno == rustix::io::Errno::WOULDBLOCK {
            io::Error::other(
                "in use by a running natter-server (stop it first: sudo systemctl stop natter-server)",
            )
        } else {
            errno.into()
        }
    })
}
