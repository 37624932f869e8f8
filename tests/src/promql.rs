//! Reading PromQL without a parser, for the checks of the rule files: which metrics an
//! expression reads, and the label lists of its `by (...)`, `on (...)` and
//! `group_left (...)`.

use std::collections::BTreeSet;

/// The identifiers of a PromQL expression outside label matchers, strings and the label
/// lists of `by (...)`, `on (...)`, `group_left (...)`: metric names, functions, keywords.
pub fn identifiers(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = expr.char_indices().peekable();
    let mut in_braces = false;
    let mut label_list = false;
    let mut last_word = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                let mut escaped = false;
                for (_, c) in chars.by_ref() {
                    match c {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => break,
                        _ => escaped = false,
                    }
                }
            }
            '{' => in_braces = true,
            '}' => in_braces = false,
            '(' => {
                label_list = [
                    "by",
                    "without",
                    "on",
                    "ignoring",
                    "group_left",
                    "group_right",
                ]
                .contains(&last_word.as_str());
                last_word.clear();
            }
            ')' => label_list = false,
            '[' => {
                // A range or a subquery: skip to `]`.
                for (_, c) in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_ascii_alphanumeric() || d == '_' || d == ':' {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let word = &expr[i..end];
                if !in_braces && !label_list {
                    out.push(word.to_owned());
                }
                last_word = word.to_owned();
            }
            c if c.is_whitespace() => {}
            _ => last_word.clear(),
        }
    }
    out
}

/// The metric names an expression reads: its identifiers that are neither functions nor
/// keywords.
pub fn metrics_read(expr: &str) -> BTreeSet<String> {
    const NOT_METRICS: [&str; 14] = [
        "sum",
        "max",
        "rate",
        "sum_over_time",
        "label_replace",
        "by",
        "on",
        "group_left",
        "and",
        "or",
        "unless",
        "vector",
        "count",
        "min",
    ];
    identifiers(expr)
        .into_iter()
        .filter(|w| !NOT_METRICS.contains(&w.as_str()))
        .collect()
}

/// The label lists of every `by (...)`, `on (...)`, `group_left (...)` of an expression.
pub fn label_lists(expr: &str, keyword: &str) -> Vec<BTreeSet<String>> {
    expr.split(&format!("{keyword} ("))
        .skip(1)
        .map(|rest| {
            rest.split(')')
                .next()
                .unwrap()
                .split(',')
                .map(|l| l.trim().to_owned())
                .filter(|l| !l.is_empty())
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_identifiers_of_an_expression_skip_labels_strings_and_ranges() {
        let expr = r#"sum by (job, objective) (rate(x_total{status=~"5.."}[5m]) * on (job, instance) group_left (objective) info) or label_replace(a:b:c, "slo", "x", "", "")"#;
        assert_eq!(
            metrics_read(expr),
            BTreeSet::from(["x_total".to_owned(), "info".to_owned(), "a:b:c".to_owned()])
        );
    }
}
