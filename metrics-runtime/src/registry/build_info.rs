//! `build_info{service, version, revision}`: which build of the program runs, set once
//! by [`build_info!`](crate::build_info).

use crate::families::Builder;

/// Exposes `build_info` = 1 with these labels, once per process; later calls change
/// nothing. With a constant label `service` configured, that label names the service
/// and `service` is not added again. Nothing is registered when metrics are disabled;
/// a registration failure is logged.
pub fn build_info(service: &'static str, version: &'static str, revision: &'static str) {
    if !crate::enabled() {
        return;
    }
    let runtime = super::runtime();
    runtime.build_info.get_or_init(
        || match family(&runtime.builder, service, version, revision) {
            Ok(gauge) => runtime.register_late(vec![Box::new(gauge)]),
            Err(err) => log::error!("track-metrics: cannot create build_info: {err}"),
        },
    );
}

fn family(
    builder: &Builder,
    service: &str,
    version: &str,
    revision: &str,
) -> Result<prometheus::Gauge, prometheus::Error> {
    // A float gauge, as the objective families': the same exposition as an integer one,
    // and no second gauge type compiled.
    let help = "1, labelled with the program's name, version and source revision.";
    let gauge = if builder.has_const_label("service") {
        builder
            .float_gauge("build_info", help, &["version", "revision"])?
            .with_label_values(&[version, revision])
    } else {
        builder
            .float_gauge("build_info", help, &["service", "version", "revision"])?
            .with_label_values(&[service, version, revision])
    };
    gauge.set(1.0);
    Ok(gauge)
}
