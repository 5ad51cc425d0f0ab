//! Every string of the .slint sources is translated in every bundled language: re-extracts the
//! `@tr("...")` strings (with their context, the enclosing component or global, as Slint's
//! default) and checks each `.po` for a missing, empty or fuzzy entry, and for placeholders
//! that do not match.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn slint_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            slint_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "slint") {
            out.push(path);
        }
    }
}

/// Reads a string literal starting at `s[0] == '"'`; returns its value and the rest.
fn string_literal(s: &str) -> (String, &str) {
    let mut value = String::new();
    let mut chars = s[1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, other)) => value.push(other),
                None => break,
            },
            '"' => return (value, &s[i + 2..]),
            c => value.push(c),
        }
    }
    panic!("unterminated string literal");
}

/// (context, msgid) of every `@tr(...)` in a .slint source.
fn extract(source: &str) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    let mut context = String::new();
    for line in source.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        for (i, w) in words.iter().enumerate() {
            if (*w == "component" || *w == "global")
                && i + 1 < words.len()
                && (i == 0 || words[i - 1] == "export")
            {
                context = words[i + 1].trim_end_matches('{').to_string();
            }
        }
        let mut rest = line;
        while let Some(pos) = rest.find("@tr(") {
            rest = rest[pos + 4..].trim_start();
            assert!(
                rest.starts_with('"'),
                "@tr without a literal string in {line}"
            );
            let (text, after) = string_literal(rest);
            found.insert((context.clone(), text));
            rest = after;
        }
    }
    found
}

#[derive(Debug, Default)]
struct Entry {
    msgstr: String,
    fuzzy: bool,
}

/// Parses a .po file into (context, msgid) -> entry.
fn parse_po(text: &str) -> BTreeMap<(String, String), Entry> {
    let mut entries = BTreeMap::new();
    for block in text.split("\n\n") {
        let mut ctx = String::new();
        let mut id = String::new();
        let mut msgstr = String::new();
        let mut fuzzy = false;
        // 0: msgctxt, 1: msgid, 2: msgstr; continuation lines append to the last one.
        let mut current = None;
        for line in block.lines() {
            if line.starts_with("#,") && line.contains("fuzzy") {
                fuzzy = true;
            }
            if line.starts_with('#') {
                continue;
            }
            let rest = if let Some(r) = line.strip_prefix("msgctxt ") {
                current = Some(0);
                r
            } else if let Some(r) = line.strip_prefix("msgid ") {
                current = Some(1);
                r
            } else if let Some(r) = line.strip_prefix("msgstr ") {
                current = Some(2);
                r
            } else if line.starts_with('"') {
                line
            } else {
                continue;
            };
            let (value, _) = string_literal(rest.trim());
            match current {
                Some(0) => ctx.push_str(&value),
                Some(1) => id.push_str(&value),
                Some(2) => msgstr.push_str(&value),
                _ => {}
            }
        }
        if !id.is_empty() {
            entries.insert((ctx, id), Entry { msgstr, fuzzy });
        }
    }
    entries
}

fn placeholders(s: &str) -> usize {
    s.matches("{}").count()
}

#[test]
fn every_ui_string_is_translated_in_every_language() {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
    let mut files = Vec::new();
    slint_files(&ui, &mut files);
    let mut strings = BTreeSet::new();
    for f in &files {
        strings.extend(extract(&std::fs::read_to_string(f).unwrap()));
    }
    assert!(strings.len() > 50, "found {} strings", strings.len());
    assert!(strings.contains(&("HomeView".to_string(), "Sell".to_string())));

    let lang_dir = ui.join("lang");
    let mut languages = Vec::new();
    for entry in std::fs::read_dir(&lang_dir).unwrap() {
        let po = entry.unwrap().path().join("LC_MESSAGES/comptoir.po");
        if po.exists() {
            languages.push(po);
        }
    }
    assert!(!languages.is_empty());
    let mut problems = Vec::new();
    for po in &languages {
        let entries = parse_po(&std::fs::read_to_string(po).unwrap());
        let lang = po
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        for (ctx, id) in &strings {
            match entries.get(&(ctx.clone(), id.clone())) {
                None => problems.push(format!("{lang}: missing [{ctx}] {id:?}")),
                Some(e) if e.msgstr.is_empty() => {
                    problems.push(format!("{lang}: untranslated [{ctx}] {id:?}"))
                }
                Some(e) if e.fuzzy => problems.push(format!("{lang}: fuzzy [{ctx}] {id:?}")),
                Some(e) if placeholders(&e.msgstr) != placeholders(id) => problems.push(format!(
                    "{lang}: placeholders differ [{ctx}] {id:?} -> {:?}",
                    e.msgstr
                )),
                Some(_) => {}
            }
        }
    }
    assert!(
        problems.is_empty(),
        "translation problems (run ui/lang/update.sh, then translate):\n{}",
        problems.join("\n")
    );
}
