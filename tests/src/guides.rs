//! The PromQL of the guides in `docs/`, which the live tests run.

use std::fs;

use crate::workspace_root;

/// The expressions of every `promql` block of the guide at `path` (relative to the
/// workspace root, such as `docs/operating.md`): `#` lines are comments, indented lines
/// continue the expression above.
pub fn promql(path: &str) -> Vec<String> {
    let text = fs::read_to_string(workspace_root().join(path))
        .unwrap_or_else(|err| panic!("the guide {path} can be read: {err}"));
    let mut exprs: Vec<String> = Vec::new();
    for block in text.split("```promql\n").skip(1) {
        let block = block.split("```").next().unwrap();
        for line in block.lines() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            match exprs.last_mut() {
                Some(last) if line.starts_with(' ') => {
                    last.push('\n');
                    last.push_str(line);
                }
                _ => exprs.push(line.to_owned()),
            }
        }
    }
    exprs
}
