//! Which format a scrape gets, by its `Accept` header (RFC 9110, section 12.5.1): each
//! format takes the quality of the most specific media range that matches it (`q=0`
//! refuses it), the higher quality wins, and a tie goes to the format listed first.
//! Without an `Accept`, or with nothing we serve in it, the text format 0.0.4; among
//! formats of the same quality and position (`*/*`), text 0.0.4, then OpenMetrics.

/// A format `/metrics` can answer in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// The text format 0.0.4.
    Text,
    /// OpenMetrics 1.0.0 text.
    OpenMetrics,
    /// Length-delimited `io.prometheus.client.MetricFamily` messages (feature
    /// `native-histograms`).
    #[cfg(feature = "native-histograms")]
    Protobuf,
}

/// The formats we serve, in the order a tie prefers them.
const FORMATS: &[Format] = &[
    Format::Text,
    Format::OpenMetrics,
    #[cfg(feature = "native-histograms")]
    Format::Protobuf,
];

impl Format {
    /// The format the `Accept` header value `accept` prefers.
    pub(crate) fn negotiate(accept: Option<&[u8]>) -> Format {
        let Some(accept) = accept.and_then(|accept| std::str::from_utf8(accept).ok()) else {
            return Format::Text;
        };
        // Per format: (quality, specificity, position) of the range that decides it.
        let mut best: [Option<(u16, u8, usize)>; FORMATS.len()] = [None; FORMATS.len()];
        for (position, range) in accept.split(',').enumerate() {
            let Some(range) = Range::parse(range) else {
                continue;
            };
            for (&format, best) in FORMATS.iter().zip(&mut best) {
                if let Some(specificity) = range.matches(format)
                    && best.is_none_or(|(_, s, _)| specificity > s)
                {
                    *best = Some((range.quality, specificity, position));
                }
            }
        }
        // The highest quality, then the earliest range, then the earliest format (a later
        // format only when strictly better). A loop: the iterator chain it replaces was
        // ~900 lines of LLVM IR.
        let mut chosen: Option<(u16, usize, Format)> = None;
        for (&format, best) in FORMATS.iter().zip(best) {
            let Some((quality, _, position)) = best else {
                continue;
            };
            let better = match chosen {
                None => true,
                Some((q, p, _)) => quality > q || (quality == q && position < p),
            };
            if quality > 0 && better {
                chosen = Some((quality, position, format));
            }
        }
        chosen.map_or(Format::Text, |(_, _, format)| format)
    }
}

// One media range of an `Accept` header: `type/subtype`, its `version`, `proto` and
// `encoding` parameters if any, and its quality in thousandths.
struct Range<'a> {
    kind: &'a str,
    subtype: &'a str,
    version: Option<&'a str>,
    proto: Option<&'a str>,
    encoding: Option<&'a str>,
    quality: u16,
}

impl<'a> Range<'a> {
    fn parse(text: &'a str) -> Option<Range<'a>> {
        let mut parts = text.split(';');
        let (kind, subtype) = parts.next()?.trim().split_once('/')?;
        let mut range = Range {
            kind: kind.trim(),
            subtype: subtype.trim(),
            version: None,
            proto: None,
            encoding: None,
            quality: 1000,
        };
        for parameter in parts {
            let Some((name, value)) = parameter.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            match name.trim() {
                name if name.eq_ignore_ascii_case("q") => range.quality = quality(value)?,
                name if name.eq_ignore_ascii_case("version") => range.version = Some(value),
                name if name.eq_ignore_ascii_case("proto") => range.proto = Some(value),
                name if name.eq_ignore_ascii_case("encoding") => range.encoding = Some(value),
                _ => {}
            }
        }
        Some(range)
    }

    // How specifically this range names `format`, if it does: 1 for `*/*`, 2 for
    // `type/*`, 3 for the media type, 4 with its version.
    fn matches(&self, format: Format) -> Option<u8> {
        let (kind, subtype, versions): (&str, &str, &[&str]) = match format {
            Format::Text => ("text", "plain", &["0.0.4"]),
            Format::OpenMetrics => ("application", "openmetrics-text", &["1.0.0"]),
            #[cfg(feature = "native-histograms")]
            Format::Protobuf => ("application", "vnd.google.protobuf", &[]),
        };
        if self.kind == "*" && self.subtype == "*" {
            return Some(1);
        }
        if !self.kind.eq_ignore_ascii_case(kind) {
            return None;
        }
        if self.subtype == "*" {
            return Some(2);
        }
        if !self.subtype.eq_ignore_ascii_case(subtype) {
            return None;
        }
        #[cfg(feature = "native-histograms")]
        if format == Format::Protobuf {
            // Only the one message and encoding we write, named.
            let named = self.proto == Some("io.prometheus.client.MetricFamily")
                && self.encoding == Some("delimited");
            return named.then_some(4);
        }
        match self.version {
            None => Some(3),
            Some(version) if versions.contains(&version) => Some(4),
            // Another version of the format (OpenMetrics 0.0.1, say): not what we write.
            Some(_) => None,
        }
    }
}

// A quality value, `0` to `1` with at most three decimals, in thousandths; `None` when
// malformed (the range is then left out).
fn quality(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::Format::{self, OpenMetrics, Text};

    fn negotiate(accept: &str) -> Format {
        Format::negotiate(Some(accept.as_bytes()))
    }

    #[test]
    fn prometheus_gets_openmetrics() {
        // What Prometheus 2.x sends by default.
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(negotiate(prometheus), OpenMetrics);
        // Prometheus 3's default.
        let prometheus3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1";
        assert_eq!(negotiate(prometheus3), OpenMetrics);
        // Configured for the text format first.
        let text_first =
            "text/plain;version=0.0.4;q=0.6,application/openmetrics-text;version=1.0.0;q=0.5";
        assert_eq!(negotiate(text_first), Text);
    }

    #[test]
    fn no_or_unknown_accept_gets_the_text_format() {
        assert_eq!(Format::negotiate(None), Text);
        assert_eq!(negotiate(""), Text);
        assert_eq!(negotiate("*/*"), Text);
        assert_eq!(negotiate("application/json"), Text);
        // Protobuf without the feature that writes it; with it, not another message.
        #[cfg(not(feature = "native-histograms"))]
        assert_eq!(
            negotiate(
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
            ),
            Text
        );
        assert_eq!(
            negotiate("application/vnd.google.protobuf;proto=other.Message;encoding=delimited"),
            Text
        );
        assert_eq!(negotiate("application/vnd.google.protobuf"), Text);
        assert_eq!(Format::negotiate(Some(&[0xff, 0xfe])), Text);
        assert_eq!(negotiate(",,;;==garbage/"), Text);
    }

    #[test]
    fn quality_values_are_honoured() {
        assert_eq!(negotiate("application/openmetrics-text"), OpenMetrics);
        assert_eq!(
            negotiate("application/openmetrics-text; q=0.9, text/plain"),
            Text
        );
        assert_eq!(
            negotiate("text/plain;q=0.2, application/openmetrics-text;q=0.3"),
            OpenMetrics
        );
        assert_eq!(negotiate("application/openmetrics-text;q=0"), Text);
        assert_eq!(negotiate("application/openmetrics-text;q=0.000, */*"), Text);
        assert_eq!(
            negotiate("application/openmetrics-text;Q=1.000"),
            OpenMetrics
        );
        // A malformed quality leaves its range out.
        assert_eq!(negotiate("application/openmetrics-text;q=2"), Text);
        assert_eq!(negotiate("application/openmetrics-text;q=0.1234"), Text);
        assert_eq!(negotiate("application/openmetrics-text;q=abc"), Text);
        // A tie: the one listed first.
        assert_eq!(
            negotiate("application/openmetrics-text, text/plain"),
            OpenMetrics
        );
        assert_eq!(negotiate("text/plain, application/openmetrics-text"), Text);
    }

    #[test]
    fn wildcards_and_specific_ranges() {
        assert_eq!(negotiate("application/*"), OpenMetrics);
        assert_eq!(negotiate("text/*"), Text);
        // The most specific range decides a format's quality.
        // `application/*` names the protobuf exposition too, when it is served.
        #[cfg(feature = "native-histograms")]
        let application = Format::Protobuf;
        #[cfg(not(feature = "native-histograms"))]
        let application = Text;
        assert_eq!(
            negotiate("application/*;q=0.9, application/openmetrics-text;q=0, */*;q=0.1"),
            application
        );
        assert_eq!(
            negotiate("*/*;q=0.5, application/openmetrics-text;q=0.6"),
            OpenMetrics
        );
        // Other versions are other formats.
        assert_eq!(
            negotiate("application/openmetrics-text;version=0.0.1"),
            Text
        );
        assert_eq!(
            negotiate("application/openmetrics-text;version=\"1.0.0\""),
            OpenMetrics
        );
        assert_eq!(
            negotiate("Application/OpenMetrics-Text; Version=1.0.0"),
            OpenMetrics
        );
        assert_eq!(
            negotiate("text/plain;version=1.0.0, application/openmetrics-text;q=0.5"),
            OpenMetrics
        );
    }

    #[cfg(feature = "native-histograms")]
    #[test]
    fn protobuf_when_preferred() {
        use super::Format::Protobuf;
        // What Prometheus 2.42 sends with `--enable-feature=native-histograms`.
        let prometheus = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(negotiate(prometheus), Protobuf);
        assert_eq!(
            negotiate(
                "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; q=0.4, text/plain; q=0.5"
            ),
            Text
        );
        assert_eq!(
            negotiate(
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"
            ),
            Text
        );
        // Wildcards keep the text formats first.
        assert_eq!(negotiate("*/*"), Text);
        assert_eq!(negotiate("application/*"), OpenMetrics);
    }
}
