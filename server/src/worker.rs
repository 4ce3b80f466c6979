//! The slow work of logins on a thread of its own, so the event loop keeps
//! relaying everyone's messages meanwhile (issue 10): checking a password
//! against its hash, hashing a new account's, and the credentials file's
//! syncs and rewrites. The loop hands it jobs; it answers through a
//! channel and wakes the loop ([`Waker`]).

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};

use natter_core::credential::{Name, Password, Secret};
use natter_core::event::{Checked, StoreFailed};
use natter_core::session::ConnId;

use crate::credentials::CredentialsFile;
use crate::password::Hasher;
use crate::waker::Waker;

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
    /// Wakes the loop again when the thread's end came with its last
    /// answers: the next look reports it.
    waker: Waker,
    /// Set when the server stops: jobs not begun are dropped.
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// The worker thread is gone (it panicked): logins would wait forever.
fn gone() -> io::Error {
    io::Error::other("the login worker thread stopped")
}

impl Worker {
    /// Starts the thread, which owns the credentials file from now on and
    /// wakes the loop with `waker` when work is done (or it ended).
    pub fn spawn(
        mut credentials: CredentialsFile,
        hasher: Hasher,
        waker: Waker,
    ) -> io::Result<Worker> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (outbox, done) = mpsc::channel();
        let stopping = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&stopping);
        let theirs = waker.clone();
        let thread = thread::Builder::new()
            .name("natter-logins".into())
            .spawn(move || {
                // However the thread ends (a panic, say), the loop looks,
                // and finds out: the answers' channel closes first (locals
                // drop in reverse), then the loop is woken.
                let waker = theirs.on_drop();
                let outbox = outbox;
                for job in inbox {
                    if stop.load(Ordering::Relaxed) {
                        // Nobody waits for it any more.
                        continue;
                    }
                    let done = work(job, &mut credentials, &hasher);
                    if outbox.send(done).is_err() {
                        return;
                    }
                    waker.wake();
                }
            })?;
        Ok(Worker {
            jobs: Some(jobs),
            done,
            waker,
            stopping,
            thread: Some(thread),
        })
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
    /// Lets the job in hand finish, so no account line is left half
    /// written, and drops the rest.
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn work(job: Job, credentials: &mut CredentialsFile, hasher: &Hasher) -> Done {
    match job {
        Job::Check {
            conn,
            name,
            secret,
            password,
        } => {
            let right = hasher.check(&secret, &password);
            // The first right login of a plain password rewrites it hashed.
            let stored = match secret {
                Secret::Plain(_) if right => rehash(credentials, hasher, &name, &password),
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
            let saved = hasher
                .hash(&password)
                .and_then(|hash| {
                    credentials
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

/// `name`'s password hashed and written in place of the plain one; `None`
/// (and the plain one kept) if that fails.
fn rehash(
    credentials: &mut CredentialsFile,
    hasher: &Hasher,
    name: &str,
    password: &str,
) -> Option<Secret> {
    let hashed = hasher
        .hash(password)
        .and_then(|hash| {
            credentials
                .replace(name, &hash)
                .map(|()| hash)
                .map_err(|e| e.to_string())
        })
        .map_err(|error| {
            eprintln!("natter-server: could not rewrite {name}'s password hashed: {error}");
        })
        .ok()?;
    Some(Secret::Hashed(hashed))
}
