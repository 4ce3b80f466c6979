//! The server's one timer, as a Linux timerfd watched like a socket.
//!
//! async-io keeps its own timers in a map that it splits on every turn of
//! its reactor, which allocates whenever a timer is set; the server always
//! has one (the next idle logout), so every message would cost that
//! allocation. A timerfd is just another readable file descriptor.

use std::io;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use rustix::time::{
    Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create,
    timerfd_settime,
};
use smol::Async;

pub struct Deadline {
    fd: Async<OwnedFd>,
}

impl Deadline {
    pub fn new() -> io::Result<Deadline> {
        let fd = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        Ok(Deadline {
            fd: Async::new(fd)?,
        })
    }

    /// Fires at `at` (at once if it has passed), or never with `None`.
    pub fn set(&self, at: Option<Instant>) -> io::Result<()> {
        let value = match at {
            // A zero time disarms the timer: the soonest is a nanosecond.
            Some(at) => at
                .saturating_duration_since(Instant::now())
                .max(Duration::from_nanos(1)),
            None => Duration::ZERO,
        };
        let spec = Itimerspec {
            it_interval: Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: Timespec {
                tv_sec: i64::try_from(value.as_secs()).unwrap_or(i64::MAX),
                tv_nsec: i64::from(value.subsec_nanos()),
            },
        };
        timerfd_settime(self.fd.get_ref(), TimerfdTimerFlags::empty(), &spec)?;
        Ok(())
    }

    /// Waits until the timer fires.
    pub async fn fired(&self) -> io::Result<()> {
        let mut expirations = [0u8; 8];
        loop {
            self.fd.readable().await?;
            match rustix::io::read(self.fd.get_ref(), &mut expirations) {
                Ok(_) => return Ok(()),
                Err(rustix::io::Errno::AGAIN) => continue,
                Err(error) => return Err(error.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_fires_when_set_and_not_when_disarmed() {
        smol::block_on(async {
            let deadline = Deadline::new().unwrap();
            deadline
                .set(Some(Instant::now() + Duration::from_millis(20)))
                .unwrap();
            let started = Instant::now();
            deadline.fired().await.unwrap();
            assert!(started.elapsed() >= Duration::from_millis(15));
            // In the past: at once.
            deadline
                .set(Some(Instant::now() - Duration::from_secs(1)))
                .unwrap();
            deadline.fired().await.unwrap();
            // Disarmed: nothing within 50 ms.
            deadline.set(None).unwrap();
            let fired = smol::future::or(
                async {
                    deadline.fired().await.unwrap();
                    true
                },
                async {
                    smol::Timer::after(Duration::from_millis(50)).await;
                    false
                },
            )
            .await;
            assert!(!fired);
        });
    }
}
