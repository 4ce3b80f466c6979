//! The slow work of logins on threads of their own, so the event loop keeps
//! relaying everyone's messages meanwhile (issue 10): checking a password
//! against its hash, hashing a new account's, and the credentials file's
//! syncs and rewrites. The loop hands them jobs; they answer through a
//! channel and wake the loop ([`Waker`]). One thread per core by default
//! (issue 26): a login storm after a restart is spread over them, and the
//! hashes of first logins are written into the file together, once a
//! second at most ([`REWRITE_EVERY`]).

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use natter_core::credential::{Name, Password, Secret};
use natter_core::event::{Checked, StoreFailed};
use natter_core::session::ConnId;

use crate::credentials::CredentialsFile;
use crate::debug;
use crate::password::Hasher;
use crate::waker::{WakeOnDrop, Waker};

/// Work for the thread.
pub enum Job {
    /// Check `password` against `secret`, `name`'s; rewrite a plain one
    /// hashed if it is right.
    Check {
        conn: ConnId,
        name: Name,
        secret: Secret,
        password: Password,
    },
    /// Hash and append a new account.
    Save {
        conn: ConnId,
        name: Name,
        password: Password,
    },
}

/// Work done.
pub enum Done {
    Checked {
        conn: ConnId,
        checked: Checked,
    },
    Saved {
        conn: ConnId,
        saved: Result<Secret, StoreFailed>,
    },
}

pub struct Worker {
    jobs: Option<mpsc::Sender<Job>>,
    done: mpsc::Receiver<Done>,
    /// Wakes the loop again when the threads' end came with their last
    /// answers: the next look reports it.
    waker: Waker,
    /// Set when the server stops: jobs not begun are dropped.
    stopping: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// How often, at most, the credentials file is rewritten for plain
/// passwords hashed at their first login: a storm of first logins after a
/// start rewrites it once a second, not once a login.
pub const REWRITE_EVERY: Duration = Duration::from_secs(1);

/// What the threads share.
struct Shared {
    inbox: Mutex<mpsc::Receiver<Job>>,
    accounts: Mutex<Accounts>,
    stopping: Arc<AtomicBool>,
    hasher: Hasher,
}

/// The credentials file, and the hashes waiting to be written into it.
struct Accounts {
    file: CredentialsFile,
    pending: Vec<(String, String)>,
    rewritten: Instant,
}

/// The worker thread is gone (it panicked): logins would wait forever.
fn gone() -> io::Error {
    io::Error::other("the login worker thread stopped")
}

/// A lock, whatever a panicking thread left behind: a thread that panics
/// ends the worker anyway (the loop finds out), and the file's own
/// operations leave it whole.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Worker {
    /// Starts `threads` threads (at least one), which own the credentials
    /// file from now on and wake the loop with `waker` when work is done
    /// (or they ended).
    pub fn spawn(
        credentials: CredentialsFile,
        hasher: Hasher,
        threads: usize,
        waker: Waker,
    ) -> io::Result<Worker> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (outbox, done) = mpsc::channel();
        let stopping = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared {
            inbox: Mutex::new(inbox),
            accounts: Mutex::new(Accounts {
                file: credentials,
                pending: Vec::new(),
                rewritten: Instant::now(),
            }),
            stopping: Arc::clone(&stopping),
            hasher,
        });
        let mut handles = Vec::new();
        for index in 0..threads.max(1) {
            let shared = Arc::clone(&shared);
            let outbox = outbox.clone();
            let theirs = waker.clone();
            let thread = thread::Builder::new()
                .name(format!("natter-logins-{index}"))
                .spawn(move || {
                    // However the thread ends (a panic, say), the loop
                    // looks, and finds out: the answers' channel closes
                    // first (locals drop in reverse), then the loop is
                    // woken.
                    let waker = theirs.on_drop();
                    shared.serve(&outbox, &waker);
                });
            match thread {
                Ok(thread) => handles.push(thread),
                // Fewer threads serve as well, only slower.
                Err(error) if !handles.is_empty() => {
                    eprintln!("natter-server: login thread {index}: {error}");
                    break;
                }
                Err(error) => return Err(error),
            }
        }
        Ok(Worker {
            jobs: Some(jobs),
            done,
            waker,
            stopping,
            threads: handles,
        })
    }

    /// How many threads check and hash passwords.
    pub fn threads(&self) -> usize {
        self.threads.len()
    }

    pub fn send(&self, job: Job) -> io::Result<()> {
        let jobs = self.jobs.as_ref().ok_or_else(gone)?;
        jobs.send(job).map_err(|_| gone())
    }

    /// Work done so far, oldest first; an error once the thread is gone.
    pub fn take(&mut self) -> io::Result<Vec<Done>> {
        let mut done = Vec::new();
        loop {
            match self.done.try_recv() {
                Ok(answer) => done.push(answer),
                Err(mpsc::TryRecvError::Empty) => return Ok(done),
                // Its last answers count; then the loop stops, at its next
                // look.
                Err(mpsc::TryRecvError::Disconnected) if done.is_empty() => return Err(gone()),
                Err(mpsc::TryRecvError::Disconnected) => {
                    self.waker.wake();
                    return Ok(done);
                }
            }
        }
    }
}

impl Drop for Worker {
    /// Lets the jobs in hand finish, so no account line is left half
    /// written, writes the hashes still pending, and drops the rest.
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.jobs = None;
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Shared {
    /// One thread's life: jobs until the loop lets go of the channel, and
    /// the pending hashes written when due and at the end.
    fn serve(&self, outbox: &mpsc::Sender<Done>, waker: &WakeOnDrop) {
        loop {
            let job = lock(&self.inbox).recv_timeout(REWRITE_EVERY);
            match job {
                // Nobody waits for it any more.
                Ok(_) if self.stopping.load(Ordering::Relaxed) => {}
                Ok(job) => {
                    if outbox.send(self.work(job)).is_err() {
                        break;
                    }
                    waker.wake();
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            self.write_hashes(false);
        }
        self.write_hashes(true);
    }

    fn work(&self, job: Job) -> Done {
        match job {
            Job::Check {
                conn,
                name,
                secret,
                password,
            } => {
                let right = self.hasher.check(&secret, &password);
                // The first right login of a plain password has it hashed,
                // written to the file with others (`write_hashes`).
                let stored = match secret {
                    Secret::Plain(_) if right => self.rehash(&name, &password),
                    _ => None,
                };
                Done::Checked {
                    conn,
                    checked: Checked { right, stored },
                }
            }
            Job::Save {
                conn,
                name,
                password,
            } => {
                let saved = self
                    .hasher
                    .hash(&password)
                    .and_then(|hash| {
                        lock(&self.accounts)
                            .file
                            .append(&name, &hash)
                            .map(|()| Secret::Hashed(hash))
                            .map_err(|e| e.to_string())
                    })
                    .map_err(|error| {
                        eprintln!("natter-server: could not save the new account {name}: {error}");
                        StoreFailed
                    });
                Done::Saved { conn, saved }
            }
        }
    }

    /// `password` hashed, to be written in place of `name`'s plain one;
    /// `None` (and the plain one kept) if it cannot be hashed.
    fn rehash(&self, name: &str, password: &str) -> Option<Secret> {
        let hash = self
            .hasher
            .hash(password)
            .map_err(|error| {
                eprintln!("natter-server: could not hash {name}'s password: {error}");
            })
            .ok()?;
        lock(&self.accounts)
            .pending
            .push((name.to_owned(), hash.to_string()));
        Some(Secret::Hashed(hash))
    }

    /// Writes the pending hashes into the file in one rewrite, if
    /// [`REWRITE_EVERY`] has passed since the last (or `now`).
    fn write_hashes(&self, now: bool) {
        let mut accounts = lock(&self.accounts);
        if accounts.pending.is_empty() || !(now || accounts.rewritten.elapsed() >= REWRITE_EVERY) {
            return;
        }
        let pending = std::mem::take(&mut accounts.pending);
        match accounts.file.replace_all(&pending) {
            Ok(()) => debug!("credentials rewritten with {} new hashes", pending.len()),
            // They stay plain, and are hashed again at a later login.
            Err(error) => eprintln!(
                "natter-server: could not rewrite {} passwords hashed: {error}",
                pending.len()
            ),
        }
        accounts.rewritten = Instant::now();
    }
}
