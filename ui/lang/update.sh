#!/bin/sh
# Re-extracts the @tr strings of the .slint sources into comptoir.pot and merges them into each
# language's .po (new strings arrive empty, changed ones fuzzy: translate them, then run
# `cargo test --test translations`).
# Needs `cargo install slint-tr-extractor --version 1.18.1` and gettext (msgmerge).
set -eu
cd "$(dirname "$0")/.."
find . -name '*.slint' -not -path './lang/*' | sort | xargs slint-tr-extractor --package-name comptoir -o lang/comptoir.pot
for po in lang/*/LC_MESSAGES/comptoir.po; do
    msgmerge --quiet --update --backup=none --no-wrap --no-fuzzy-matching "$po" lang/comptoir.pot
done
