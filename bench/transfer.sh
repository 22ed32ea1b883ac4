#!/usr/bin/env bash
# Benchmark 1 — transfer: one promotion of a SIZE-byte package (mock
# --package-size SIZE --polls 0, poll_interval 100ms) through
# `dev2prodd --once`, RUNS times; each run also has curl do the same GET to
# a file and the same multipart POST against the same mock.
#   bench/transfer.sh SIZE RUNS LABEL
# Reports medians (ms) of:
#   daemon download  steps.download finished - started (request, write,
#                    SHA-256; the package is not flushed, see job.c)
#   daemon upload    steps.upload finished - started (one state save, then
#                    the multipart POST streamed from the file)
#   curl download    curl -o FILE, curl's own %{time_total}
#   curl download+fdatasync  the same plus `sync --data FILE` afterwards
#                    (what the daemon paid before it stopped flushing
#                    the package; kept as a second yardstick)
#   curl upload      curl -F 'Files[]=@FILE' -A Apache-HttpClient/4.4.1
# and the daemon's peak RSS (/usr/bin/time %M, the whole --once process),
# and CPU time (user + system): the daemon's whole --once run against
# curl's GET plus POST (CPU is what a loaded machine turns into wall time).
. "$(dirname "$0")/lib.sh"
SIZE=${1:?size} RUNS=${2:-3} LABEL=${3:-$1}

K1="dev-$RANDOM$RANDOM" K2="prod-$RANDOM$RANDOM"
mock_start --tenant "111:key=$K1" --tenant "222:key=$K2" --package-size "$SIZE" --polls 0
STATE="$W/state" CFG="$W/transfer.yaml"
daemon_config "$CFG" "$STATE" 1 100ms
cat >> "$CFG" <<YAML
tenants:
  dev: { url: "$MOCK_URL", tenant_id: "111", auth: { type: api_key, key_file: $(key_file dev "$K1") } }
  prod: { url: "$MOCK_URL", tenant_id: "222", auth: { type: api_key, key_file: $(key_file prod "$K2") } }
promotions:
  - { name: big, package: "4711", from: dev, to: prod, schedule: "0 3 1 1 *" }
YAML

json_str() { sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p"; }
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) / 1000 }'; }

d_dl=() d_ul=() d_rss=() d_cpu=() c_dl=() c_dls=() c_ul=() c_cpu=()
for ((run = 1; run <= RUNS; run++)); do
        # ---- the daemon
        rm -rf "$STATE"
        sync
        /usr/bin/time -f '%M %U %S' -o "$W/time.out" "$D2P" --config "$CFG" --once big 2>> "$W/daemon.log" ||
                { tail -5 "$W/daemon.log" >&2; die "the promotion failed"; }
        job=$(ls "$STATE"/jobs/*.json)
        [ "$(job_top "$job" state)" = succeeded ] || die "job not succeeded"
        [ "$(job_top "$job" download_bytes)" = "$SIZE" ] || die "downloaded $(job_top "$job" download_bytes) bytes, not $SIZE"
        d_dl+=("$(ms_between "$(job_step_usec "$job" download started)" "$(job_step_usec "$job" download finished)")")
        d_ul+=("$(ms_between "$(job_step_usec "$job" upload started)" "$(job_step_usec "$job" upload finished)")")
        read -r rss u s < "$W/time.out"
        d_rss+=("$rss") d_cpu+=("$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.0f", (u + s) * 1000 }')")

        # ---- curl: an export to get a FileId, then the same GET and POST
        a1="Authorization: rest_api_key=$K1" a2="Authorization: rest_api_key=$K2"
        eid=$(curl -fsS -X POST -H "$a1" -H 'Content-Type: application/json' -d '{}' \
                "$MOCK_URL/rest/111/dev2prod/export/types/4711" | json_str Id)
        fid=$(curl -fsS -H "$a1" "$MOCK_URL/rest/111/dev2prod/export/$eid" | json_str FileId)
        [ -n "$fid" ] || die "curl: no FileId"
        rm -f "$W/curl.pkg"
        sync
        t0=$(now_us)
        t=$(/usr/bin/time -f '%U %S' -o "$W/ctime1" curl -fsS -H "$a1" -H 'Accept: */*' -o "$W/curl.pkg" -w '%{time_total}' "$MOCK_URL/rest/111/ces/attachment/$fid") ||
                die "curl download failed"
        sync --data "$W/curl.pkg"
        t1=$(now_us)
        [ "$(stat -c %s "$W/curl.pkg")" = "$SIZE" ] || die "curl downloaded $(stat -c %s "$W/curl.pkg") bytes"
        c_dl+=("$(awk -v t="$t" 'BEGIN { printf "%.0f", t * 1000 }')")
        c_dls+=("$(ms_between "$t0" "$t1")")
        sync
        t=$(/usr/bin/time -f '%U %S' -o "$W/ctime2" curl -fsS -H "$a2" -A 'Apache-HttpClient/4.4.1' -F "Files[]=@$W/curl.pkg" -o /dev/null -w '%{time_total}' \
                "$MOCK_URL/rest/222/ces/attachment") || die "curl upload failed"
        c_ul+=("$(awk -v t="$t" 'BEGIN { printf "%.0f", t * 1000 }')")
        c_cpu+=("$(cat "$W/ctime1" "$W/ctime2" | awk '{ c += $1 + $2 } END { printf "%.0f", c * 1000 }')")
        rm -f "$W/curl.pkg"
        say "$LABEL run $run: daemon download ${d_dl[-1]} ms, upload ${d_ul[-1]} ms, peak RSS ${d_rss[-1]} kB;" \
            "curl download ${c_dl[-1]} ms (+fdatasync ${c_dls[-1]} ms), upload ${c_ul[-1]} ms;" \
            "CPU: daemon ${d_cpu[-1]} ms (the whole --once), curl ${c_cpu[-1]} ms (GET + POST)"
done
# every upload's bytes must be the package's (the mock records both digests)
[ "$(grep -c "^upload .*bytes=$SIZE " "$W/record")" = $((2 * RUNS)) ] || die "an upload was short"

# the ratios of each run (daemon and curl ran back to back), whose median
# is steadier than a ratio of medians when the machine's load drifts
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
for ((i = 0; i < RUNS; i++)); do
        result "transfer_${LABEL}_ratio_download" "$(ratio "${d_dl[i]}" "${c_dl[i]}")"
        result "transfer_${LABEL}_ratio_download_sync" "$(ratio "${d_dl[i]}" "${c_dls[i]}")"
        result "transfer_${LABEL}_ratio_upload" "$(ratio "${d_ul[i]}" "${c_ul[i]}")"
        result "transfer_${LABEL}_ratio_both" "$(ratio $((d_dl[i] + d_ul[i])) $((c_dl[i] + c_ul[i])))"
        result "transfer_${LABEL}_ratio_both_sync" "$(ratio $((d_dl[i] + d_ul[i])) $((c_dls[i] + c_ul[i])))"
        result "transfer_${LABEL}_ratio_cpu" "$(ratio "${d_cpu[i]}" "${c_cpu[i]}")"
done
result "transfer_${LABEL}_daemon_download_ms" "$(median "${d_dl[@]}")"
result "transfer_${LABEL}_daemon_upload_ms" "$(median "${d_ul[@]}")"
result "transfer_${LABEL}_daemon_rss_kb" "$(median "${d_rss[@]}")"
result "transfer_${LABEL}_daemon_rss_max_kb" "$(printf '%s\n' "${d_rss[@]}" | sort -n | tail -1)"
result "transfer_${LABEL}_curl_download_ms" "$(median "${c_dl[@]}")"
result "transfer_${LABEL}_curl_download_sync_ms" "$(median "${c_dls[@]}")"
result "transfer_${LABEL}_curl_upload_ms" "$(median "${c_ul[@]}")"
result "transfer_${LABEL}_daemon_cpu_ms" "$(median "${d_cpu[@]}")"
result "transfer_${LABEL}_curl_cpu_ms" "$(median "${c_cpu[@]}")"
