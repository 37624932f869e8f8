//! The request labels of the running configuration (`Config::label`): each one's values,
//! bounded ([`Values`]), and the set of values a request carries ([`LabelSet`]),
//! interned so that a set is one pointer and its series one lookup away.
//!
//! A value is kept only if the label's bound admits it: an allow-list, fixed from the
//! start, or the first `n` distinct values the process sees, after which the table is
//! fixed too. A fixed table is read without a lock; while one still fills, a thread finds
//! the values it has seen in a table of its own and takes the shared lock only for a
//! value new to it. Either way a value seen before allocates nothing, and the values, the
//! sets and so the series are bounded by the bounds, never by the traffic.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use foldhash::fast::FixedState;

use crate::config::RequestLabel;
use crate::config::label::{Bound, OTHER, Source, is_kept};

type Table<V> = HashMap<Box<str>, V, FixedState>;

fn table<V>() -> Table<V> {
    HashMap::with_hasher(FixedState::with_seed(0x2545_f491_4f6c_dd1d))
}

/// The configured request labels, in their order in the families.
pub(crate) struct RequestLabels {
    labels: Box<[Label]>,
    // Some label's value comes from a closure over axum's request head.
    #[cfg(feature = "axum")]
    axum_closure: bool,
}

/// One request label: where its value comes from and which values it keeps.
pub(crate) struct Label {
    name: Box<str>,
    source: Source,
    values: Values,
}

impl RequestLabels {
    /// The tables of `labels`; `None` when there are none (requests then carry
    /// [`LabelSet::NONE`] without looking at anything).
    pub(crate) fn new(labels: &[RequestLabel]) -> Option<RequestLabels> {
        if labels.is_empty() {
            return None;
        }
        let labels = labels
            .iter()
            .enumerate()
            .map(|(index, label)| Label {
                name: label.name().into(),
                source: label.source.clone(),
                values: Values::new(index, &label.bound),
            })
            .collect::<Box<[Label]>>();
        Some(RequestLabels {
            #[cfg(feature = "axum")]
            axum_closure: labels
                .iter()
                .any(|label| matches!(label.source, Source::Axum(_))),
            labels,
        })
    }

    /// Whether some label's value comes from a closure over axum's request head (the
    /// layer then takes the request apart to give it the head).
    #[cfg(feature = "axum")]
    pub(crate) fn has_axum_closure(&self) -> bool {
        self.axum_closure
    }

    /// The values a request carries when it arrives: each label's from `source` (the
    /// raw value of the label's source in the request, `None` when absent).
    pub(crate) fn arrival<'r>(
        &'static self,
        mut source: impl FnMut(&Source) -> Option<&'r [u8]>,
    ) -> LabelSet {
        let mut values = [""; crate::config::label::MAX_LABELS];
        for (value, label) in values.iter_mut().zip(self.labels.iter()) {
            *value = label.values.value(source(&label.source));
        }
        LabelSet::of(&values[..self.labels.len()])
    }
}

impl RequestLabels {
    /// The place of the label named `name`, if declared.
    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        self.labels.iter().position(|label| &*label.name == name)
    }

    /// `set` with the value of the label at `index` from `raw` instead (bounded as any).
    pub(crate) fn with_value(&'static self, set: LabelSet, index: usize, raw: &[u8]) -> LabelSet {
        let mut values = [""; crate::config::label::MAX_LABELS];
        let values = &mut values[..self.labels.len()];
        for (value, set) in values.iter_mut().zip(set.values()) {
            *value = set;
        }
        if let (Some(value), Some(label)) = (values.get_mut(index), self.labels.get(index)) {
            *value = label.values.value(Some(raw));
        }
        LabelSet::of(values)
    }
}

/// The values one label keeps.
pub(crate) struct Values {
    // The label's place, for this thread's table of the values it has seen.
    index: usize,
    // Every value kept, once no other can be: an allow-list, or a full table.
    fixed: OnceLock<Table<&'static str>>,
    // At most this many values (with no allow-list).
    max: usize,
    // The values kept so far, while the table fills.
    filling: Mutex<Table<&'static str>>,
}

thread_local! {
    // Per label, the values this thread has seen kept (while the label's table fills).
    static SEEN: RefCell<Vec<Table<&'static str>>> = const { RefCell::new(Vec::new()) };
}

impl Values {
    fn new(index: usize, bound: &Bound) -> Values {
        let values = Values {
            index,
            fixed: OnceLock::new(),
            max: 0,
            filling: Mutex::new(table()),
        };
        match bound {
            Bound::Allow(allowed) => {
                let mut fixed = table();
                for value in allowed.iter() {
                    fixed.insert(value.as_str().into(), leak(value));
                }
                let _ = values.fixed.set(fixed);
                values
            }
            Bound::Max(max) => {
                if *max == 0 {
                    let _ = values.fixed.set(table());
                }
                Values {
                    max: *max,
                    ..values
                }
            }
        }
    }

    /// The label's value for `raw`: `""` when absent or empty, the value when kept (or
    /// now admitted), else `_other`.
    pub(crate) fn value(&'static self, raw: Option<&[u8]>) -> &'static str {
        let Some(raw) = raw.filter(|raw| !raw.is_empty()) else {
            return "";
        };
        let Some(value) = std::str::from_utf8(raw).ok().filter(|value| is_kept(value)) else {
            return OTHER;
        };
        if let Some(fixed) = self.fixed.get() {
            return fixed.get(value).copied().unwrap_or(OTHER);
        }
        let seen = SEEN.try_with(|seen| {
            let seen = seen.try_borrow().ok()?;
            seen.get(self.index)?.get(value).copied()
        });
        if let Ok(Some(value)) = seen {
            return value;
        }
        let kept = self.admit(value);
        if !std::ptr::eq(kept, OTHER) {
            let _ = SEEN.try_with(|seen| {
                if let Ok(mut seen) = seen.try_borrow_mut() {
                    if seen.len() <= self.index {
                        seen.resize_with(self.index + 1, table);
                    }
                    seen[self.index].insert(value.into(), kept);
                }
            });
        }
        kept
    }

    // `value`, kept if it was, or if there is room for one more; else `_other`. The
    // table is fixed when it is full.
    #[cold]
    fn admit(&self, value: &str) -> &'static str {
        let mut filling = self.filling.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(kept) = filling.get(value) {
            return kept;
        }
        if filling.len() >= self.max {
            return OTHER;
        }
        let kept = leak(value);
        filling.insert(value.into(), kept);
        if filling.len() == self.max {
            let _ = self.fixed.set(filling.clone());
        }
        kept
    }
}

/// The values of the request labels one request carries, in the labels' order: one
/// interned slice per distinct set, so two sets are equal when their pointers are. A set
/// with no value (every label absent) is [`LabelSet::NONE`], whatever the labels.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LabelSet(&'static [&'static str]);

static SETS: Mutex<Option<HashMap<&'static [&'static str], LabelSet, FixedState>>> =
    Mutex::new(None);

thread_local! {
    static LOCAL_SETS: RefCell<HashMap<&'static [&'static str], LabelSet, FixedState>> =
        const { RefCell::new(HashMap::with_hasher(FixedState::with_seed(0x6a09_e667_f3bc_c908))) };
}

impl LabelSet {
    /// No request label has a value (or none is configured).
    pub(crate) const NONE: LabelSet = LabelSet(&[]);

    /// The values, in the labels' order; empty for [`LabelSet::NONE`].
    pub(crate) fn values(self) -> &'static [&'static str] {
        self.0
    }

    /// Whether this is [`LabelSet::NONE`].
    #[inline]
    pub(crate) fn is_none(self) -> bool {
        self.0.is_empty()
    }

    /// The set of these values (each one a label's kept value, `""` or `_other`).
    pub(crate) fn of(values: &[&'static str]) -> LabelSet {
        if values.iter().all(|value| value.is_empty()) {
            return LabelSet::NONE;
        }
        let local = LOCAL_SETS.try_with(|sets| sets.try_borrow().ok()?.get(values).copied());
        if let Ok(Some(set)) = local {
            return set;
        }
        let set = {
            let mut sets = SETS.lock().unwrap_or_else(PoisonError::into_inner);
            let sets = sets.get_or_insert_with(|| HashMap::with_hasher(FixedState::default()));
            match sets.get(values) {
                Some(set) => *set,
                None => {
                    // Leaked on purpose: bounded by the labels' bounds.
                    let kept: &'static [&'static str] = Box::leak(values.into());
                    let set = LabelSet(kept);
                    sets.insert(kept, set);
                    set
                }
            }
        };
        let _ = LOCAL_SETS.try_with(|sets| {
            if let Ok(mut sets) = sets.try_borrow_mut() {
                sets.insert(set.0, set);
            }
        });
        set
    }
}

// Kept for the program's life: bounded by the labels' bounds.
fn leak(value: &str) -> &'static str {
    Box::leak(value.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    // `index`: one no other test uses, so that no thread's table mixes two tests'.
    fn values(index: usize, bound: Bound) -> &'static Values {
        Box::leak(Box::new(Values::new(index, &bound)))
    }

    #[test]
    fn the_first_values_are_kept_then_other() {
        let values = values(5, Bound::Max(2));
        assert_eq!(values.value(Some(b"acme")), "acme");
        assert_eq!(values.value(None), "");
        assert_eq!(values.value(Some(b"")), "");
        assert_eq!(values.value(Some(b"has space")), OTHER);
        assert_eq!(values.value(Some("é".as_bytes())), OTHER);
        assert_eq!(values.value(Some(&[b'x'; 65])), OTHER);
        assert_eq!(values.value(Some(b"_other")), OTHER);
        assert_eq!(values.value(Some(b"globex")), "globex");
        assert_eq!(values.value(Some(b"initech")), OTHER);
        // Seen before: the same kept value, from the fixed table now.
        assert!(std::ptr::eq(
            values.value(Some(b"acme")),
            values.value(Some(b"acme"))
        ));
        assert_eq!(values.value(Some(&[b'x'; 64])), OTHER);
        // Another thread sees the same bound.
        std::thread::scope(|scope| {
            scope.spawn(|| {
                assert_eq!(values.value(Some(b"globex")), "globex");
                assert_eq!(values.value(Some(b"umbrella")), OTHER);
            });
        });
    }

    #[test]
    fn an_allow_list_keeps_only_its_values() {
        let values = values(
            6,
            Bound::Allow(["acme".to_owned(), "Globex".to_owned()].into()),
        );
        assert_eq!(values.value(Some(b"acme")), "acme");
        assert_eq!(values.value(Some(b"Globex")), "Globex");
        assert_eq!(values.value(Some(b"globex")), OTHER);
        assert_eq!(values.value(None), "");
        let none = self::values(7, Bound::Max(0));
        assert_eq!(none.value(Some(b"acme")), OTHER);
    }

    #[test]
    fn sets_are_interned() {
        let a = LabelSet::of(&["acme", ""]);
        let b = LabelSet::of(&["acme", ""]);
        assert!(std::ptr::eq(a.0, b.0));
        assert!(!std::ptr::eq(a.0, LabelSet::of(&["acme", "web"]).0));
        assert!(LabelSet::of(&["", ""]).is_none());
        let other = std::thread::spawn(|| LabelSet::of(&["acme", ""]).0.as_ptr() as usize);
        assert_eq!(other.join().unwrap(), a.0.as_ptr() as usize);
    }
}
