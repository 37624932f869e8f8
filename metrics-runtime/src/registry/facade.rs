//! The `metrics` facade's families in the process-wide registry (feature `metrics-rs`):
//! which family a facade metric belongs to, made and registered on first use, and what
//! `describe_*` said of each name.
//!
//! A facade metric is dropped, with one warning naming it, when its family would take a
//! name the runtime's own families take or may take later (see `families::facade`),
//! or one another facade family takes; when its name is a family of another kind or
//! with other label names already; when its label names repeat (after sanitising) or a
//! histogram has `le`; when the registry refuses the family (a metric of the user's own
//! of that name). Dropped, it is recorded nowhere, and the program goes on.
//!
//! Only the facade recorder's first sight of a metric (each key once) comes here; the
//! table is behind one lock.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use once_cell::sync::Lazy;

use crate::exposition::Units;
use crate::exposition::collector::FacadeCollector;
use crate::families::facade::{self, About, SharedAbout};
use crate::families::{FacadeCell, FacadeFamily, FacadeKind};

#[derive(Default)]
struct Table {
    families: HashMap<String, Arc<FacadeFamily>>,
    abouts: HashMap<String, SharedAbout>,
    // Every name the runtime's families and the facade's take (`facade::taken`),
    // filled with the runtime's on first use.
    taken: HashSet<String>,
    // The histograms' bounds: the configured buckets.
    bounds: Option<Arc<[f64]>>,
    // Each name warned about (once), which is never made afterwards either.
    warned: HashSet<String>,
}

static TABLE: Lazy<Mutex<Table>> = Lazy::new(Mutex::default);

fn table() -> std::sync::MutexGuard<'static, Table> {
    TABLE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The series of a facade metric of this kind, (sanitised) name, name as recorded and
/// labels (sanitised names, values), made on first use; `None` when metrics are disabled or the metric
/// is dropped (see the module's documentation).
pub(crate) fn series(
    kind: FacadeKind,
    name: &str,
    recorded_as: &str,
    mut labels: Vec<(String, String)>,
) -> Option<FacadeCell> {
    if !crate::enabled() {
        return None;
    }
    labels.sort_by(|a, b| a.0.cmp(&b.0));
    let (names, values): (Vec<String>, Vec<String>) = labels.into_iter().unzip();
    let mut table = table();
    let table = &mut *table;
    if let Some(family) = table.families.get(name) {
        let why = if family.kind != kind {
            format!("it is a {} already", family.kind.name())
        } else if !family.has_labels(&names) {
            let first = family.desc.variable_labels.join(", ");
            format!("its labels are [{}], not [{first}]", names.join(", "))
        } else {
            return Some(family.series(values));
        };
        return dropped(table, name, why);
    }
    if table.warned.contains(name) {
        return None;
    }
    if let Some(twice) = names.windows(2).find(|pair| pair[0] == pair[1]) {
        let label = &twice[0];
        return dropped(table, name, format!("it has the label {label} twice"));
    }
    if kind == FacadeKind::Histogram && names.iter().any(|label| label == "le") {
        return dropped(
            table,
            name,
            "a histogram cannot have the label le".to_owned(),
        );
    }
    let runtime = super::runtime();
    if table.taken.is_empty() {
        table.taken.extend(facade::ours(&runtime.builder));
    }
    let taken = facade::taken(name, kind);
    if let Some(collision) = taken.iter().find(|name| table.taken.contains(*name)) {
        return dropped(table, name, format!("the name {collision} is taken"));
    }
    let bounds = table
        .bounds
        .get_or_insert_with(|| crate::families::bounds(runtime.buckets.as_deref()).into())
        .clone();
    let about = Arc::clone(table.abouts.entry(name.to_owned()).or_default());
    let family = match FacadeFamily::new(name, recorded_as, kind, names, bounds, about) {
        Ok(family) => Arc::new(family),
        Err(err) => return dropped(table, name, err.to_string()),
    };
    let collector = FacadeCollector::new(Arc::clone(&family));
    if let Err(err) = runtime.registry.register(Box::new(collector)) {
        return dropped(table, name, format!("the registry refused it: {err}"));
    }
    table.taken.extend(taken);
    let series = family.series(values);
    table.families.insert(name.to_owned(), family);
    Some(series)
}

// Warns once that the facade metric `name` is dropped, and why.
fn dropped<T>(table: &mut Table, name: &str, why: String) -> Option<T> {
    if table.warned.insert(name.to_owned()) {
        log::warn!("track-metrics: the metrics facade's {name} is dropped: {why}");
    }
    None
}

/// What `describe_*` said of the family of this (sanitised) name: its HELP and unit,
/// for the families made before and after.
pub(crate) fn describe(name: &str, unit: Option<&'static str>, help: &str) {
    let mut table = table();
    let about = table.abouts.entry(name.to_owned()).or_default();
    let mut about = about.write().unwrap_or_else(PoisonError::into_inner);
    *about = About {
        help: help.to_owned(),
        unit,
    };
}

/// The units of the facade's families, for the OpenMetrics encoder.
pub(crate) fn units() -> Units {
    let table = table();
    let units = table
        .families
        .iter()
        .filter_map(|(name, family)| {
            let about = family.about.read().unwrap_or_else(PoisonError::into_inner);
            Some((name.clone(), about.unit?))
        })
        .collect();
    Units::new(units)
}
