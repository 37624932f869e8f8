//! Periodic pushes from a long job: a thread that pushes every interval, and once more when
//! its handle is dropped or finished.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Error, Pusher};

/// A [`Pusher`] that pushes every `interval` once spawned: see [`Pusher::every`].
#[derive(Clone, Debug)]
pub struct Periodic {
    pusher: Pusher,
    interval: Duration,
}

impl Periodic {
    pub(super) fn new(pusher: Pusher, interval: Duration) -> Periodic {
        Periodic { pusher, interval }
    }

    /// Starts pushing (`PUT`) on a thread of its own, the first push one interval from
    /// now. A push that fails is logged (a warning, once until one succeeds again) and
    /// the next one tried at its time. Dropping the handle, or [`PushHandle::finish`],
    /// stops the thread and pushes once more, so the gateway ends with the job's last
    /// counts.
    pub fn spawn(self) -> PushHandle {
        let (stop, stopped) = mpsc::channel::<()>();
        let Periodic { pusher, interval } = self;
        let thread_pusher = pusher.clone();
        let thread = std::thread::Builder::new()
            .name("track-metrics-pusher".to_owned())
            .spawn(move || {
                let mut failing = false;
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                    match thread_pusher.push() {
                        Ok(()) => failing = false,
                        Err(err) if !failing => {
                            failing = true;
                            log::warn!("track-metrics: {err}; trying again every {interval:?}");
                        }
                        Err(_) => {}
                    }
                }
            })
            .ok();
        if thread.is_none() {
            log::warn!(
                "track-metrics: cannot start the periodic push's thread; pushing only at the end"
            );
        }
        PushHandle {
            stop: Some(stop),
            thread,
            pusher,
        }
    }
}

/// Periodic pushes in progress ([`Periodic::spawn`]): dropped, it stops them and pushes
/// once more (an error then is logged); [`PushHandle::finish`] does the same and returns
/// the last push's result.
#[derive(Debug)]
pub struct PushHandle {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    pusher: Pusher,
}

impl PushHandle {
    /// Stops the periodic pushes and pushes once more: the job's last counts, and whether
    /// they reached the gateway.
    pub fn finish(mut self) -> Result<(), Error> {
        self.last()
    }

    fn last(&mut self) -> Result<(), Error> {
        // Dropping the sender wakes the thread, which stops; a push it is making finishes
        // first (within its timeout), so the last push is this one.
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.pusher.push()
    }
}

impl Drop for PushHandle {
    fn drop(&mut self) {
        if self.stop.is_none() {
            return; // finished
        }
        if let Err(err) = self.last() {
            log::warn!("track-metrics: {err} (the last push)");
        }
    }
}
