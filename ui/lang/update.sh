#!/bin/sh
# Re-extracts the @tr strings of the .slint sources into comptoir.pot and merges them into each
# language's .po (new strings arrive empty, changed ones fuzzy: translate them in fr, tr and ar,
# then run `cargo test --test integration translations::`).
# English is the source language: en/LC_MESSAGES/comptoir.po is regenerated from the template
# with every msgstr equal to its msgid, so all four languages are bundled and checked alike.
# Needs `cargo install slint-tr-extractor --version 1.18.1` and gettext (msgmerge, msgen).
set -eu
cd "$(dirname "$0")/.."
find . -name '*.slint' -not -path './lang/*' | sort | xargs slint-tr-extractor --package-name comptoir -o lang/comptoir.pot
# slint-tr-extractor 1.18.1 wraps a long comment above a @tr into the .pot without the "#."
# of its second line, which msgmerge refuses: give those lines back their "#. ".
sed -i -e '/^\(#\|msg\|"\|$\)/!s/^/#. /' lang/comptoir.pot
for po in lang/*/LC_MESSAGES/comptoir.po; do
    case "$po" in lang/en/*) continue ;; esac
    msgmerge --quiet --update --backup=none --no-wrap --no-fuzzy-matching "$po" lang/comptoir.pot
done
mkdir -p lang/en/LC_MESSAGES
msgen --no-wrap lang/comptoir.pot |
    sed -e 's/^"Language: \\n"$/"Language: en\\n"/' \
        -e 's/^"Language-Team: .*"$/"Language-Team: English (source strings)\\n"/' \
        -e 's/^"Plural-Forms: .*"$/"Plural-Forms: nplurals=2; plural=(n != 1);\\n"/' \
        -e 's/^"Last-Translator: .*"$/"Last-Translator: none (msgstr = msgid)\\n"/' \
        -e 's/^"PO-Revision-Date: YEAR.*"$/"PO-Revision-Date: 2026-01-01 00:00+0000\\n"/' \
    >lang/en/LC_MESSAGES/comptoir.po
