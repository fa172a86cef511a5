#!/usr/bin/env bash
# Unit tests of the independent JavaScript model of the path grammar and
# patch semantics (reference/paths.js) that the differential test uses.
set -e
cd "$(dirname "$0")"
node --test reference/
