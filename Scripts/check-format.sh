#!/usr/bin/env bash
# Checks that Sources, Tests and Package.swift are as swift-format (shipped with the toolchain) writes them
# under .swift-format; prints the files that are not. Fix with:
#   swift format format --configuration .swift-format -i -r Sources Tests Package.swift
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r Sources Tests Package.swift .swift-format "$work/"
(cd "$work" && swift format format --configuration .swift-format -i -r Sources Tests Package.swift)
if ! diff -r -q Sources "$work/Sources" > /dev/null || ! diff -r -q Tests "$work/Tests" > /dev/null \
    || ! diff -q Package.swift "$work/Package.swift" > /dev/null; then
    echo "check-format: not as swift-format writes them:"
    { diff -r -q Sources "$work/Sources"; diff -r -q Tests "$work/Tests"; diff -q Package.swift "$work/Package.swift"; } | sed 's/^/  /' || true
    echo "check-format: run  swift format format --configuration .swift-format -i -r Sources Tests Package.swift"
    exit 1
fi
echo "check-format: Sources, Tests and Package.swift are formatted"
