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

// By the value's bytes: a request's bytes are looked up as they are.
type Table<V> = HashMap<Box<[u8]>, V, FixedState>;

/// The value of an absent label, and of one not kept: each one `&'static str`, so that
/// every value a label can take is one address (a set is interned by its values'
/// addresses).
static ABSENT: &str = "";
static NOT_KEPT: &str = OTHER;

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
                values: Values::new(index, &label.bound, labels.len() == 1),
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
        // One label (the usual case): its value's set is kept with the value.
        if let [label] = &*self.labels {
            return label.values.kept(source(&label.source)).alone;
        }
        let mut values = [ABSENT; crate::config::label::MAX_LABELS];
        for (value, label) in values.iter_mut().zip(self.labels.iter()) {
            *value = label.values.kept(source(&label.source)).value;
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
        let mut values = [ABSENT; crate::config::label::MAX_LABELS];
        let values = &mut values[..self.labels.len()];
        for (value, set) in values.iter_mut().zip(set.values()) {
            *value = set;
        }
        if let (Some(value), Some(label)) = (values.get_mut(index), self.labels.get(index)) {
            *value = label.values.kept(Some(raw)).value;
        }
        LabelSet::of(values)
    }
}

/// One value of a label, as a request gets it.
#[derive(Clone, Copy)]
pub(crate) struct Kept {
    /// The value: kept, [`ABSENT`] or `_other`.
    value: &'static str,
    /// The set of this value alone, when the label is the only one (else `NONE`).
    alone: LabelSet,
}

/// The values of a label once no other can be kept: up to [`SCANNED`] compared in turn
/// (cheaper than hashing a request's value), more in a table.
enum Fixed {
    Few(Box<[(Box<[u8]>, Kept)]>),
    Many(Table<Kept>),
}

/// How many fixed values are compared in turn rather than hashed.
const SCANNED: usize = 8;

impl Fixed {
    fn new(table: Table<Kept>) -> Fixed {
        if table.len() <= SCANNED {
            Fixed::Few(table.into_iter().collect())
        } else {
            Fixed::Many(table)
        }
    }

    #[inline]
    fn get(&self, value: &[u8]) -> Option<Kept> {
        match self {
            Fixed::Few(few) => few
                .iter()
                .find(|(kept, _)| kept.len() == value.len() && **kept == *value)
                .map(|(_, kept)| *kept),
            Fixed::Many(table) => table.get(value).copied(),
        }
    }
}

/// The values one label keeps.
pub(crate) struct Values {
    // The label's place, for this thread's table of the values it has seen.
    index: usize,
    // The label is the only one: each value keeps its set (`Kept::alone`).
    only: bool,
    // `_other`, with its set.
    not_kept: Kept,
    // Every value kept, once no other can be: an allow-list, or a full table.
    fixed: OnceLock<Fixed>,
    // At most this many values (with no allow-list).
    max: usize,
    // The values kept so far, while the table fills.
    filling: Mutex<Table<Kept>>,
}

thread_local! {
    // Per label, the values this thread has seen kept (while the label's table fills).
    static SEEN: RefCell<Vec<Table<Kept>>> = const { RefCell::new(Vec::new()) };
}

impl Values {
    // `only`: the label is the only one.
    fn new(index: usize, bound: &Bound, only: bool) -> Values {
        let mut values = Values {
            index,
            only,
            not_kept: Kept {
                value: NOT_KEPT,
                alone: LabelSet::NONE,
            },
            fixed: OnceLock::new(),
            max: 0,
            filling: Mutex::new(table()),
        };
        values.not_kept = values.kept_as(NOT_KEPT);
        match bound {
            Bound::Allow(allowed) => {
                let mut fixed = table();
                for value in allowed.iter() {
                    fixed.insert(value.as_bytes().into(), values.kept_as(leak(value)));
                }
                let _ = values.fixed.set(Fixed::new(fixed));
            }
            Bound::Max(max) => {
                if *max == 0 {
                    let _ = values.fixed.set(Fixed::new(table()));
                }
                values.max = *max;
            }
        }
        values
    }

    // `value` (kept for good, or `_other`) with its set when the label is the only one.
    fn kept_as(&self, value: &'static str) -> Kept {
        Kept {
            value,
            alone: if self.only {
                LabelSet::of(&[value])
            } else {
                LabelSet::NONE
            },
        }
    }

    /// The label's value for `raw`: `""` when absent or empty, the value when kept (or
    /// now admitted), else `_other`.
    #[cfg(test)]
    pub(crate) fn value(&'static self, raw: Option<&[u8]>) -> &'static str {
        self.kept(raw).value
    }

    /// [`Values::value`], with its set when the label is the only one.
    pub(crate) fn kept(&'static self, raw: Option<&[u8]>) -> Kept {
        let Some(value) = raw.filter(|raw| !raw.is_empty()) else {
            return Kept {
                value: ABSENT,
                alone: LabelSet::NONE,
            };
        };
        // Every value in the tables below passed `is_kept` (checked at `configure` for
        // an allow-list, on admission for the others): a value found there needs no
        // check, one not found can only be `_other` or admitted now.
        if let Some(fixed) = self.fixed.get() {
            return fixed.get(value).unwrap_or(self.not_kept);
        }
        let seen = SEEN.try_with(|seen| {
            let seen = seen.try_borrow().ok()?;
            seen.get(self.index)?.get(value).copied()
        });
        if let Ok(Some(kept)) = seen {
            return kept;
        }
        if !is_kept(value) {
            return self.not_kept;
        }
        let kept = self.admit(value);
        if !std::ptr::eq(kept.value, NOT_KEPT) {
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
    fn admit(&self, value: &[u8]) -> Kept {
        let mut filling = self.filling.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(kept) = filling.get(value) {
            return *kept;
        }
        // Visible ASCII (`is_kept`), so UTF-8.
        let Ok(text) = std::str::from_utf8(value) else {
            return self.not_kept;
        };
        if filling.len() >= self.max {
            return self.not_kept;
        }
        let kept = self.kept_as(leak(text));
        filling.insert(value.into(), kept);
        if filling.len() == self.max {
            let _ = self.fixed.set(Fixed::new(filling.clone()));
        }
        kept
    }
}

/// The values of the request labels one request carries, in the labels' order: one
/// interned slice per distinct set, so two sets are equal when their pointers are. A set
/// with no value (every label absent) is [`LabelSet::NONE`], whatever the labels.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LabelSet(&'static Interned);

/// An interned set: its values, and its number among the sets (0 for
/// [`LabelSet::NONE`], then 1, 2, … in the order they were first seen), by which a
/// series finds its labelled series in a small table of its own.
#[derive(Debug)]
struct Interned {
    number: u32,
    values: &'static [&'static str],
}

/// A set's key: the addresses of its values (each value a label can take has one, see
/// [`ABSENT`]), in the labels' order.
fn key(values: &[&'static str]) -> ([usize; crate::config::label::MAX_LABELS], usize) {
    let mut key = [0; crate::config::label::MAX_LABELS];
    for (slot, value) in key.iter_mut().zip(values) {
        *slot = value.as_ptr() as usize;
    }
    (key, values.len().min(key.len()))
}

type Key = Box<[usize]>;

static SETS: Mutex<Option<HashMap<Key, LabelSet, FixedState>>> = Mutex::new(None);

thread_local! {
    static LOCAL_SETS: RefCell<HashMap<Key, LabelSet, FixedState>> =
        const { RefCell::new(HashMap::with_hasher(FixedState::with_seed(0x6a09_e667_f3bc_c908))) };
}

impl LabelSet {
    /// No request label has a value (or none is configured).
    pub(crate) const NONE: LabelSet = LabelSet(&Interned {
        number: 0,
        values: &[],
    });

    /// The values, in the labels' order; empty for [`LabelSet::NONE`].
    #[inline]
    pub(crate) fn values(self) -> &'static [&'static str] {
        self.0.values
    }

    /// Whether this is [`LabelSet::NONE`].
    #[inline]
    pub(crate) fn is_none(self) -> bool {
        self.0.values.is_empty()
    }

    /// Its number: 0 for [`LabelSet::NONE`], then 1, 2, … as sets are first seen.
    #[inline]
    pub(crate) fn number(self) -> u32 {
        self.0.number
    }

    /// The set of these values (each one a label's kept value, [`ABSENT`] or
    /// `_other`, as [`Values::value`] gives them).
    pub(crate) fn of(values: &[&'static str]) -> LabelSet {
        if values.iter().all(|value| value.is_empty()) {
            return LabelSet::NONE;
        }
        let (key, len) = key(values);
        let key = &key[..len];
        let local = LOCAL_SETS.try_with(|sets| sets.try_borrow().ok()?.get(key).copied());
        if let Ok(Some(set)) = local {
            return set;
        }
        let set = {
            let mut sets = SETS.lock().unwrap_or_else(PoisonError::into_inner);
            let sets = sets.get_or_insert_with(|| HashMap::with_hasher(FixedState::default()));
            // Leaked on purpose: bounded by the labels' bounds.
            let number = u32::try_from(sets.len() + 1).unwrap_or(u32::MAX);
            *sets.entry(key.into()).or_insert_with(|| {
                LabelSet(Box::leak(Box::new(Interned {
                    number,
                    values: Box::leak(values.into()),
                })))
            })
        };
        let _ = LOCAL_SETS.try_with(|sets| {
            if let Ok(mut sets) = sets.try_borrow_mut() {
                sets.insert(key.into(), set);
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
        Box::leak(Box::new(Values::new(index, &bound, false)))
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
    fn the_only_label_keeps_each_values_set() {
        let values: &'static Values = Box::leak(Box::new(Values::new(8, &Bound::Max(1), true)));
        let acme = values.kept(Some(b"acme"));
        assert!(std::ptr::eq(acme.alone.0, LabelSet::of(&[acme.value]).0));
        assert_eq!(acme.alone.values(), ["acme"]);
        let other = values.kept(Some(b"globex"));
        assert_eq!(other.alone.values(), ["_other"]);
        assert!(values.kept(None).alone.is_none());
        // Seen again (from the fixed table now): the same set.
        assert!(std::ptr::eq(
            values.kept(Some(b"acme")).alone.0,
            acme.alone.0
        ));
    }

    #[test]
    fn sets_are_interned() {
        // Values as `Values::value` gives them: one address each.
        static ACME: &str = "acme";
        static WEB: &str = "web";
        let a = LabelSet::of(&[ACME, ABSENT]);
        let b = LabelSet::of(&[ACME, ABSENT]);
        assert!(std::ptr::eq(a.0, b.0));
        assert!(!std::ptr::eq(a.0, LabelSet::of(&[ACME, WEB]).0));
        assert!(!std::ptr::eq(a.0, LabelSet::of(&[ACME, NOT_KEPT]).0));
        assert!(LabelSet::of(&[ABSENT, ABSENT]).is_none());
        let other =
            std::thread::spawn(|| std::ptr::from_ref(LabelSet::of(&[ACME, ABSENT]).0) as usize);
        assert_eq!(other.join().unwrap(), std::ptr::from_ref(a.0) as usize);
        // Each set its own number, the same from every thread.
        let web = LabelSet::of(&[ACME, WEB]);
        assert!(a.number() > 0 && web.number() > 0 && a.number() != web.number());
        assert_eq!(LabelSet::NONE.number(), 0);
        let number = std::thread::spawn(|| LabelSet::of(&[ACME, WEB]).number());
        assert_eq!(number.join().unwrap(), web.number());
    }
}
