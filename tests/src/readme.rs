//! The README's PromQL, which the live tests run.

use std::fs;

use crate::workspace_root;

/// The expressions of the `promql` blocks of the README's `## {section}` section: `#` lines
/// are comments, indented lines continue the expression above.
pub fn promql(section: &str) -> Vec<String> {
    let readme = fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let text = readme
        .split_once(&format!("\n## {section}\n"))
        .unwrap_or_else(|| panic!("README has a \"{section}\" section"))
        .1;
    let text = text.split("\n## ").next().unwrap();
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
