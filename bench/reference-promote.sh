#!/usr/bin/env bash
# reference-promote.sh — one promotion the way a cron job does it: a curl
# process per request, a poll loop with sleep, answers picked apart with
# sed/grep (no jq).  Benchmark 2 runs 1,000 of these under `xargs -P` as the
# yardstick for the daemon's CPU per promotion; it is not a tool to use.
#
#   reference-promote.sh FROM_URL FROM_TENANT FROM_KEYFILE TO_URL TO_TENANT TO_KEYFILE PACKAGE WORKDIR [POLL_SECONDS]
#
# Exit 0 when the package was imported, 1 otherwise (with a line on stderr).
set -eu
from_url=$1 from_tid=$2 from_key=$(cat "$3")
to_url=$4 to_tid=$5 to_key=$(cat "$6")
package=$7 workdir=$8 poll=${9:-15}
pkg="$workdir/ref-$package-$$.zip"
trap 'rm -f "$pkg"' EXIT

fail() { echo "reference-promote: package $package: $*" >&2; exit 1; }

# api KEY ARGS...: one request, the JSON answer on stdout
api() { local key=$1; shift; curl -fsS -H "Authorization: rest_api_key=$key" "$@"; }
json_str() { sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p"; }

# poll KEY URL: until the status is final; the last answer on stdout
poll() {
        local out status
        while :; do
                out=$(api "$1" "$2") || fail "poll $2 failed"
                status=$(printf '%s' "$out" | json_str Status)
                case $status in
                COMPLETED) printf '%s' "$out"; return 0 ;;
                FAILED | ERROR | CANCELLED | CANCELED | ABORTED) fail "$2: $status" ;;
                esac
                sleep "$poll"
        done
}

# the answer had errors: a non-empty "Errors" list or Totals.Failed > 0
has_errors() {
        grep -q '"Errors" *: *\[ *"' <<< "$1" && return 0
        local failed
        failed=$(printf '%s' "$1" | sed -n 's/.*"Totals" *: *{[^}]*"Failed" *: *\([0-9]*\).*/\1/p')
        [ "${failed:-0}" -gt 0 ]
}

f="$from_url/rest/$from_tid" t="$to_url/rest/$to_tid"

out=$(api "$from_key" -X POST -H 'Content-Type: application/json' -d '{}' "$f/dev2prod/export/types/$package") || fail "export failed"
export_id=$(printf '%s' "$out" | json_str Id)
[ -n "$export_id" ] || fail "export: no Id"

out=$(poll "$from_key" "$f/dev2prod/export/$export_id")
file_id=$(printf '%s' "$out" | json_str FileId)
[ -n "$file_id" ] || fail "export: no FileId"

api "$from_key" -H 'Accept: */*' -o "$pkg" "$f/ces/attachment/$file_id" || fail "download failed"

out=$(api "$to_key" -A 'Apache-HttpClient/4.4.1' -F "Files[]=@$pkg" "$t/ces/attachment") || fail "upload failed"
target_file=$(printf '%s' "$out" | json_str Id)
[ -n "$target_file" ] || fail "upload: no Id"

body="{\"FileId\":\"$target_file\"}"
out=$(api "$to_key" -X POST -H 'Content-Type: application/json' -d "$body" "$t/dev2prod/import?dryRun=true") || fail "dry run failed"
dry_id=$(printf '%s' "$out" | json_str Id)
[ -n "$dry_id" ] || fail "dry run: no Id"
out=$(poll "$to_key" "$t/dev2prod/import/$dry_id")
has_errors "$out" && fail "dry run $dry_id has errors"

out=$(api "$to_key" -X POST -H 'Content-Type: application/json' -d "$body" "$t/dev2prod/import") || fail "import failed"
import_id=$(printf '%s' "$out" | json_str Id)
[ -n "$import_id" ] || fail "import: no Id"
out=$(poll "$to_key" "$t/dev2prod/import/$import_id")
has_errors "$out" && fail "import $import_id has errors"
exit 0
