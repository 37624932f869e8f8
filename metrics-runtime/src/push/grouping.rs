//! Where a push goes: the gateway's address, and the path of the group
//! (`/metrics/job/<job>/<label>/<value>…`) with the gateway's escaping rules.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;

use super::Error;

/// The names a grouping label or a constant label may not take: the gateway's own.
const RESERVED: [&str; 2] = ["job", "instance"];

/// A push's destination, checked.
#[derive(Clone, Debug)]
pub(super) struct Target {
    /// Host and port, to connect to and for the `Host` header.
    pub(super) host: String,
    pub(super) port: u16,
    /// The request's path: the gateway's prefix, then the group's.
    pub(super) path: String,
    /// The URL pushed to, for errors.
    pub(super) url: String,
}

impl Target {
    /// The target of job `job` with `grouping` on the gateway at `url`; an
    /// [`Error::Invalid`] naming what is wrong.
    pub(super) fn new(
        url: &str,
        job: &str,
        grouping: &[(String, String)],
    ) -> Result<Target, Error> {
        if job.is_empty() {
            return Err(Error::Invalid("the job name is empty".to_owned()));
        }
        for reserved in RESERVED {
            if crate::registry::has_const_label(reserved) {
                return Err(Error::Invalid(format!(
                    "the constant label `{reserved}` would clash with the gateway's own"
                )));
            }
        }
        for (at, (name, _)) in grouping.iter().enumerate() {
            if !is_label_name(name) {
                return Err(Error::Invalid(format!(
                    "grouping label name `{name}` is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with `__`)"
                )));
            }
            if RESERVED.contains(&name.as_str()) {
                return Err(Error::Invalid(format!(
                    "grouping label `{name}` is the gateway's own"
                )));
            }
            if grouping[..at].iter().any(|(earlier, _)| earlier == name) {
                return Err(Error::Invalid(format!(
                    "grouping label `{name}` is given twice"
                )));
            }
        }
        let uri: hyper::Uri = url.parse().map_err(|err| {
            Error::Invalid(format!("the gateway URL `{url}` is not a URL: {err}"))
        })?;
        if uri.scheme_str() != Some("http") {
            return Err(Error::Invalid(format!(
                "the gateway URL `{url}` is not `http://host:port` (https is not supported: put a TLS proxy on loopback)"
            )));
        }
        let Some(host) = uri.host().filter(|host| !host.is_empty()) else {
            return Err(Error::Invalid(format!(
                "the gateway URL `{url}` has no host"
            )));
        };
        if uri.query().is_some() {
            return Err(Error::Invalid(format!(
                "the gateway URL `{url}` has a query"
            )));
        }
        let mut path = uri.path().trim_end_matches('/').to_owned();
        path.push_str("/metrics");
        segment(&mut path, "job", job);
        for (name, value) in grouping {
            segment(&mut path, name, value);
        }
        let base = url.trim_end_matches('/');
        Ok(Target {
            // An IPv6 address without its brackets, as `ToSocketAddrs` takes it.
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port: uri.port_u16().unwrap_or(80),
            url: format!("{base}{}", &path[uri.path().trim_end_matches('/').len()..]),
            path,
        })
    }
}

// Appends `/<name>/<value>`, or `/<name>@base64/<value in URL-safe base64>` for a value
// that is empty or holds anything but unreserved URL characters (`/` included): the
// gateway's rule for values a path segment cannot carry as they are.
fn segment(path: &mut String, name: &str, value: &str) {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-._~".contains(&byte));
    path.push('/');
    path.push_str(name);
    if plain {
        path.push('/');
        path.push_str(value);
    } else {
        path.push_str("@base64/");
        // The empty value is `=` (the gateway's spelling; plain base64 of nothing is "").
        if value.is_empty() {
            path.push('=');
        } else {
            URL_SAFE.encode_string(value, path);
        }
    }
}

// A label name, not starting with `__` (reserved for Prometheus' own).
fn is_label_name(name: &str) -> bool {
    crate::config::is_label_name(name) && !name.starts_with("__")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str, job: &str, grouping: &[(&str, &str)]) -> Result<Target, Error> {
        let grouping: Vec<(String, String)> = grouping
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Target::new(url, job, &grouping)
    }

    #[test]
    fn paths_follow_the_gateway_s_escaping() {
        let plain = target("http://127.0.0.1:9091", "nightly", &[("shard", "eu-1")]).unwrap();
        assert_eq!(plain.path, "/metrics/job/nightly/shard/eu-1");
        assert_eq!((plain.host.as_str(), plain.port), ("127.0.0.1", 9091));
        assert_eq!(
            plain.url,
            "http://127.0.0.1:9091/metrics/job/nightly/shard/eu-1"
        );
        // `/`, an empty value, a space: base64url (what the gateway's docs show for
        // `/var/tmp`: `L3Zhci90bXA=`).
        let escaped = target(
            "http://gw:9091/prefix/",
            "a/b",
            &[("path", "/var/tmp"), ("empty", ""), ("space", "a b")],
        )
        .unwrap();
        assert_eq!(
            escaped.path,
            "/prefix/metrics/job@base64/YS9i/path@base64/L3Zhci90bXA=/empty@base64/=/space@base64/YSBi"
        );
        assert_eq!(escaped.port, 9091);
        assert_eq!(target("http://gw", "j", &[]).unwrap().port, 80);
        assert_eq!(
            escaped.url,
            "http://gw:9091/prefix/metrics/job@base64/YS9i/path@base64/L3Zhci90bXA=/empty@base64/=/space@base64/YSBi"
        );
        let v6 = target("http://[::1]:9091", "j", &[]).unwrap();
        assert_eq!(v6.host, "::1");
    }

    #[test]
    fn what_cannot_make_a_push_is_an_error_before_anything_is_sent() {
        let invalid = |url: &str, job: &str, grouping: &[(&str, &str)], says: &str| {
            let err = target(url, job, grouping).unwrap_err();
            assert!(matches!(err, Error::Invalid(_)), "{err}");
            assert!(err.to_string().contains(says), "{err} should say {says}");
        };
        let url = "http://127.0.0.1:9091";
        invalid(url, "", &[], "job name is empty");
        invalid(url, "j", &[("job", "x")], "`job` is the gateway's own");
        invalid(
            url,
            "j",
            &[("instance", "x")],
            "`instance` is the gateway's own",
        );
        invalid(url, "j", &[("1st", "x")], "`1st` is not a label name");
        invalid(url, "j", &[("__x", "x")], "`__x` is not a label name");
        invalid(url, "j", &[("a-b", "x")], "`a-b` is not a label name");
        invalid(url, "j", &[("a", "x"), ("a", "y")], "`a` is given twice");
        invalid("https://gw:9091", "j", &[], "https is not supported");
        invalid("127.0.0.1:9091", "j", &[], "is not `http://host:port`");
        invalid("http://gw:9091/?x=1", "j", &[], "has a query");
        invalid("not a url", "j", &[], "is not a URL");
    }
}
