//! One connection's series: the handles of a handler, shared by its connections, and
//! the connection that is recorded as ended once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use once_cell::sync::OnceCell;
use prometheus::{Histogram, IntCounter, IntGauge};

use super::kind::{Direction, Kind};
use crate::registry::ws_families;

/// The series of one handler, resolved once and shared by its connections.
pub(super) struct Handles {
    pub(super) connections: IntCounter,
    pub(super) active: IntGauge,
    pub(super) duration: Histogram,
    /// `[direction][kind]`.
    pub(super) messages: [[IntCounter; 5]; 2],
}

impl Handles {
    // Cached per handler name, so a connection costs one map lookup.
    pub(super) fn of(handler: &'static str) -> Option<Arc<Handles>> {
        static CACHE: OnceCell<RwLock<HashMap<&'static str, Arc<Handles>>>> = OnceCell::new();
        let cache = CACHE.get_or_init(Default::default);
        if let Some(handles) = cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(handler)
        {
            return Some(Arc::clone(handles));
        }
        let families = ws_families()?;
        let mut cache = cache.write().unwrap_or_else(PoisonError::into_inner);
        let handles = cache.entry(handler).or_insert_with(|| {
            Arc::new(Handles {
                connections: families.connections(handler),
                active: families.active(handler),
                duration: families.duration(handler),
                messages: Direction::ALL.map(|direction| {
                    Kind::ALL.map(|kind| families.messages(handler, direction, kind))
                }),
            })
        });
        Some(Arc::clone(handles))
    }
}

/// One open connection, shared by its stream and sessions; recorded as ended once.
pub(super) struct Connection {
    handles: Arc<Handles>,
    start: quanta::Instant,
    ended: AtomicBool,
}

impl Connection {
    // `None` (nothing counted, nothing registered) when metrics are disabled.
    pub(super) fn open(handler: &'static str) -> Option<Connection> {
        if !crate::enabled() {
            return None;
        }
        let handles = Handles::of(handler)?;
        handles.connections.inc();
        handles.active.inc();
        Some(Connection {
            handles,
            start: quanta::Instant::now(),
            ended: AtomicBool::new(false),
        })
    }

    #[inline]
    pub(super) fn count(&self, direction: Direction, kind: Kind) {
        self.handles.messages[direction as usize][kind as usize].inc();
    }

    // The first caller records; any later call does nothing.
    pub(super) fn end(&self) {
        if !self.ended.swap(true, Ordering::AcqRel) {
            self.handles
                .duration
                .observe(self.start.elapsed().as_secs_f64());
            self.handles.active.dec();
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.end();
    }
}
