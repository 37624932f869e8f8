//! A series' *links*: other series found from it by a small number, without a lock or a
//! hash. The registry links a series without request label values to its series with a
//! set of them, by the set's number (`registry::labels::LabelSet::number`), so that a
//! labelled request finds its series with two loads. The first [`LINKS`] numbers have a
//! slot; the registry finds the others in its tables.

use once_cell::race::OnceRef;

use super::Series;

/// Numbers that have a slot: `1..LINKS` (0 is no number).
const LINKS: usize = 32;

/// The links of one series, made on its first.
pub(crate) struct Links([OnceRef<'static, Series>; LINKS]);

impl Series {
    /// The series linked to this one under `number`, if any.
    #[inline]
    pub(crate) fn linked(&self, number: u32) -> Option<&'static Series> {
        self.links.get()?.0.get(number as usize)?.get()
    }

    /// Links `series` to this one under `number` (a slot's number, else nothing is
    /// kept). A number is linked once: the registry interns the series, so linking it
    /// again would store the same one.
    #[cold]
    pub(crate) fn link(&self, number: u32, series: &'static Series) {
        if number as usize >= LINKS {
            return;
        }
        if let Some(slot) = self
            .links
            .get_or_init(|| Box::new(Links([const { OnceRef::new() }; LINKS])))
            .0
            .get(number as usize)
        {
            let _ = slot.set(series);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::storage::tests::series;

    #[test]
    fn a_series_finds_what_is_linked_under_a_slot_s_number() {
        let base = series(None, "unit_links_base");
        let (one, last, beyond) = (
            series(None, "unit_links_1"),
            series(None, "unit_links_31"),
            series(None, "unit_links_32"),
        );
        assert!(base.linked(1).is_none());
        base.link(1, one);
        base.link(31, last);
        base.link(32, beyond);
        assert!(std::ptr::eq(base.linked(1).unwrap(), one));
        assert!(std::ptr::eq(base.linked(31).unwrap(), last));
        // No slot past the last: the registry's tables find it.
        assert!(base.linked(32).is_none());
        assert!(base.linked(2).is_none());
        // A number is linked once.
        base.link(1, last);
        assert!(std::ptr::eq(base.linked(1).unwrap(), one));
    }
}
