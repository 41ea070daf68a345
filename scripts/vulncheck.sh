#!/usr/bin/env bash
# govulncheck over the module (scripts/test.sh runs it). The vulnerability database is vuln.go.dev when it
# answers; otherwise a local copy built from the OSV files of a pinned golang.org/x/vulndb module (the Go module
# proxy serves it), indexed by that module's own indexdb command and kept in the user's cache. When neither
# can be had, the check is skipped with the reason, loudly.
#
# A vulnerability the code reaches fails the run when it is in a module (go get the fixed version). One in the
# standard library is fixed only by a newer Go than the machine's: it is listed as a warning, and fails the
# run only with AONODE_VULN_STDLIB=fail, since the Go toolchain is the machine's, not this script's, choice.
set -euo pipefail
cd "$(dirname "$0")/.."

govulncheck=golang.org/x/vuln/cmd/govulncheck@v1.9.0
vulndb=v0.0.0-20261105234957-e22db6528018 # golang.org/x/vulndb: move it forward for newer reports

if command -v curl >/dev/null 2>&1 && curl -fsS -m 10 -o /dev/null https://vuln.go.dev/index/db.json 2>/dev/null; then
  db=https://vuln.go.dev
else
  dir=${XDG_CACHE_HOME:-$HOME/.cache}/aonode/vulndb-$vulndb
  if [ ! -f "$dir/index/db.json" ]; then
    echo "vuln.go.dev does not answer; building a local database from golang.org/x/vulndb@$vulndb"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    # Outside this module, so go.mod is not touched.
    src=$(cd "$tmp" && go mod download -json "golang.org/x/vulndb@$vulndb" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') || src=
    if [ -z "$src" ] || [ ! -d "$src/data/osv" ] ||
      ! go run "golang.org/x/vulndb/cmd/indexdb@$vulndb" -vulns "$src/data/osv" -out "$tmp/db"; then
      echo "govulncheck SKIPPED: vuln.go.dev does not answer and no local database could be built from golang.org/x/vulndb@$vulndb" >&2
      exit 0
    fi
    mkdir -p "$(dirname "$dir")"
    rm -rf "$dir" && mv "$tmp/db" "$dir"
  fi
  db=file://$dir
fi
echo "database: $db"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
# -format json exits 0 whatever it finds; the findings are judged below.
go run "$govulncheck" -db "$db" -format json ./... >"$out"

# Findings the code calls (trace[0] names the vulnerable function), one line per vulnerability and module.
node - "$out" <<'EOF'
const fs = require('fs');
const text = fs.readFileSync(process.argv[2], 'utf8');
// The stream is JSON objects one after another (pretty-printed): split at top-level object boundaries.
const objs = []; let depth = 0, start = 0, inStr = false, esc = false;
for (let i = 0; i < text.length; i++) {
  const c = text[i];
  if (inStr) { if (esc) esc = false; else if (c === '\\') esc = true; else if (c === '"') inStr = false; continue; }
  if (c === '"') inStr = true;
  else if (c === '{') { if (depth++ === 0) start = i; }
  else if (c === '}') { if (--depth === 0) objs.push(JSON.parse(text.slice(start, i + 1))); }
}
const seen = new Map();
for (const o of objs) {
  const f = o.finding;
  if (!f || !f.trace || !f.trace.length || !f.trace[0].function) continue; // imported or required, not called
  const t = f.trace[0];
  const key = f.osv + ' ' + t.module;
  if (!seen.has(key)) seen.set(key, { osv: f.osv, module: t.module, found: t.version, fixed: f.fixed_version || 'none', pkg: t.package });
}
let modules = 0, stdlib = 0;
for (const v of [...seen.values()].sort((a, b) => a.osv.localeCompare(b.osv))) {
  const line = `${v.osv} ${v.module === 'stdlib' ? v.pkg : v.module}@${v.found} fixed in ${v.fixed}`;
  if (v.module === 'stdlib') { stdlib++; console.log('stdlib  ' + line); } else { modules++; console.log('module  ' + line); }
}
console.log(`govulncheck: ${modules} called vulnerabilities in modules, ${stdlib} in the standard library`);
fs.writeFileSync(process.argv[2], `${modules} ${stdlib}\n`);
EOF
read -r modules stdlib <"$out"
if [ "$modules" -gt 0 ]; then
  echo "govulncheck: upgrade the modules above (go get module@fixed)" >&2
  exit 1
fi
if [ "$stdlib" -gt 0 ]; then
  echo "govulncheck WARNING: the standard library of $(go env GOVERSION) has the vulnerabilities above; a newer Go fixes them"
  [ "${AONODE_VULN_STDLIB:-warn}" != fail ] || exit 1
fi
