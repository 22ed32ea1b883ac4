# bench/table.awk — the table of `make bench`, in Markdown.
#   awk -f bench/table.awk results.txt machine.txt
# results.txt: "key value" lines, a key once per run: the median is shown.
FNR == NR { v[$1, ++n[$1]] = $2; if ($1 == "many_before_commit") before_commit = $2; next }
{ machine = machine "_" $0 "_  \n" }

function med(k,    i, j, t, a, c) {
        c = n[k]
        if (!c) return ""
        for (i = 1; i <= c; i++) a[i] = v[k, i] + 0
        for (i = 2; i <= c; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return a[int((c + 1) / 2)]
}
function have(k) { return n[k] > 0 }
function mib(kb) { return sprintf("%.1f MiB", kb / 1024) }
function ms(x) { return x >= 10000 ? sprintf("%.1f s", x / 1000) : sprintf("%d ms", x) }
function row(what, mine, yard, ratio, target, verdict) {
        printf "| %s | %s | %s | %s | %s | %s |\n", what, mine, yard, ratio, target, verdict
}
# at most: value/limit; "met" or "MISSED by N%"
function atmost(x, lim) { return x <= lim ? "met" : sprintf("**MISSED** by %.0f%%", (x / lim - 1) * 100) }
function atleast(x, lim) { return x >= lim ? "met" : sprintf("**MISSED** (%.1fx short)", lim / x) }

# ratios: the median of the per-run ratios (daemon and curl back to back);
# the target is on download + upload, the parts are shown below it
function transfer(label,    d, c, cs, u, cu, r, rs, ru, b, bs, cr) {
        if (!have("transfer_" label "_daemon_download_ms")) return
        d = med("transfer_" label "_daemon_download_ms"); c = med("transfer_" label "_curl_download_ms")
        cs = med("transfer_" label "_curl_download_sync_ms")
        u = med("transfer_" label "_daemon_upload_ms"); cu = med("transfer_" label "_curl_upload_ms")
        if (have("transfer_" label "_ratio_both")) {
                b = med("transfer_" label "_ratio_both"); bs = med("transfer_" label "_ratio_both_sync")
                row("**" label " download + upload**", ms(d + u), "curl " ms(c + cu) "; with fdatasync " ms(cs + cu),
                    sprintf("%.2fx; %.2fx", b, bs), "≤ 1.1x curl",
                    label == "1GiB" ? atmost(b, 1.1) " (vs curl + fdatasync: " atmost(bs, 1.1) ")" : "(shown for scale)")
        }
        r = med("transfer_" label "_ratio_download"); rs = med("transfer_" label "_ratio_download_sync")
        row(label " download", ms(d), "curl " ms(c) "; curl + fdatasync " ms(cs),
            sprintf("%.2fx; %.2fx", r, rs), "(part of the above)", "")
        ru = med("transfer_" label "_ratio_upload")
        row(label " upload", ms(u), "curl " ms(cu), sprintf("%.2fx", ru), "(part of the above)", "")
        if (have("transfer_" label "_daemon_cpu_ms")) {
                # the median of the per-run ratios where the runs have it
                cr = med("transfer_" label "_daemon_cpu_ms") / med("transfer_" label "_curl_cpu_ms")
                if (have("transfer_" label "_ratio_cpu")) cr = med("transfer_" label "_ratio_cpu")
                row(label " CPU (user + sys), every byte hashed", ms(med("transfer_" label "_daemon_cpu_ms")) " (whole --once)",
                    "curl " ms(med("transfer_" label "_curl_cpu_ms")) " (GET + POST, no hash)",
                    sprintf("%.2fx", cr), label == "1GiB" ? "≤ 1.2x curl" : "(shown for scale)", label == "1GiB" ? atmost(cr, 1.2) " (before issue 14: 1.46x)" : "")
        }
}

# start-up with work waiting against an idle start of the same
# configuration; the ratio is the median of the runs' (start for start)
function startup_row(k, what, yard,    r) {
        if (!have("startup_" k "_ms")) return
        r = med("startup_" k "_ratio")
        row(what, sprintf("%.0f ms", med("startup_" k "_ms")), sprintf("%s %.0f ms", yard, med("startup_" k "_ref_ms")),
            sprintf("%.2fx", r), "≤ 1.5x the idle start", atmost(r, 1.5))
}

END {
        printf "%s\n", machine
        print "| benchmark | dev2prodd | yardstick, same run | ratio | target | verdict |"
        print "|---|---|---|---|---|---|"
        transfer("64MiB")
        transfer("1GiB")
        if (have("transfer_1GiB_daemon_rss_max_kb") || have("transfer_64MiB_daemon_rss_max_kb")) {
                a = med("transfer_64MiB_daemon_rss_max_kb"); b = med("transfer_1GiB_daemon_rss_max_kb")
                row("peak RSS, 64 MiB / 1 GiB package", (a ? mib(a) : "-") " / " (b ? mib(b) : "-"), "",
                    a && b ? sprintf("%.2fx", b / a) : "", "< 16 MiB, flat",
                    atmost(b > a ? b : a, 16384) (a && b ? (b / a > 1.1 ? ", **not flat**" : ", flat") : ""))
        }
        if (have("many_daemon_cpu_ms_per_promo")) {
                d = med("many_daemon_cpu_ms_per_promo"); r = med("many_ref_cpu_ms_per_promo")
                row("CPU per promotion (1,000 over 100 tenants)", sprintf("%.2f ms", d),
                    r ? sprintf("reference script %.0f ms (%d promotions, xargs -P %d)", r, med("many_ref_promotions"), med("many_max_parallel")) : "",
                    r ? sprintf("%.0fx less", r / d) : "", "≥ 20x less", r ? atleast(r / d, 20) : "")
                row("peak RSS, 1,000 promotions", mib(med("many_daemon_hwm_kb")),
                    have("many_ref_max_process_kb") ? "largest reference process " mib(med("many_ref_max_process_kb")) : "",
                    "", "< 64 MiB", atmost(med("many_daemon_hwm_kb"), 65536))
                p = med("many_max_parallel"); o = med("many_daemon_overlap"); t = med("many_daemon_threads")
                row("jobs at once / threads", o " / " t, "max_parallel " p, "", "≤ max_parallel, 1 thread",
                    (o <= p && t == 1) ? "met" : "**MISSED**")
                # the daemon before group commit, built from git and run
                # in the same session, alternating with this one (run.sh)
                if (have("many_daemon_jobs_per_sec") && have("many_before_jobs_per_sec")) {
                        row("1,000 promotions: jobs per second", sprintf("%.1f", med("many_daemon_jobs_per_sec")),
                            sprintf("before group commit (%s), same run: %.1f", before_commit, med("many_before_jobs_per_sec")),
                            sprintf("%.2fx", med("many_daemon_jobs_per_sec") / med("many_before_jobs_per_sec")),
                            "(none; the issue estimated +20–25 %)", "")
                        row("1,000 promotions: CPU per promotion", sprintf("%.2f ms", med("many_daemon_cpu_ms_per_promo")),
                            sprintf("before group commit, same run: %.2f ms", med("many_before_cpu_ms_per_promo")),
                            sprintf("%.2fx", med("many_daemon_cpu_ms_per_promo") / med("many_before_cpu_ms_per_promo")),
                            "(no target)", "")
                }
                if (have("nopoll_daemon_jobs_per_sec") && have("nopoll_before_jobs_per_sec"))
                        row("1,000 promotions, no polls: jobs per second", sprintf("%.1f", med("nopoll_daemon_jobs_per_sec")),
                            sprintf("before group commit (%s), same run: %.1f", before_commit, med("nopoll_before_jobs_per_sec")),
                            sprintf("%.2fx", med("nopoll_daemon_jobs_per_sec") / med("nopoll_before_jobs_per_sec")),
                            "(none; the issue estimated +20–25 %)",
                            sprintf("CPU per promotion %.2f ms, before %.2f ms", med("nopoll_daemon_cpu_ms_per_promo"),
                                    med("nopoll_before_cpu_ms_per_promo")))
                if (have("many_daemon_jobs_per_sec") && !have("many_before_jobs_per_sec"))
                        row("1,000 promotions: jobs per second", sprintf("%.1f", med("many_daemon_jobs_per_sec")),
                            "(no daemon from before group commit: see BENCH_BEFORE in bench/run.sh)", "", "(no target)", "")
                if (have("many_daemon_dir_fsyncs_per_save"))
                        row("1,000 promotions: folder fsyncs per job save", sprintf("%.2f", med("many_daemon_dir_fsyncs_per_save")),
                            "1 before group commit", "", "(no target)", "")
                row("1,000 promotions: all done after", ms(med("many_daemon_wall_ms")),
                    have("many_ref_wall_ms") ? sprintf("reference: %s for %d", ms(med("many_ref_wall_ms")), med("many_ref_promotions")) : "",
                    "", "(no target)", sprintf("READY=1 after %s, first job started after %s", ms(med("many_daemon_ready_ms")), ms(med("many_daemon_first_start_ms"))))
        }
        if (have("idle_ready_ms")) {
                np = med("idle_promotions")
                row(sprintf("idle, %d promotions: READY=1 after", np), sprintf("%.0f ms", med("idle_ready_ms")), "", "",
                    "< 200 ms", atmost(med("idle_ready_ms"), 200))
                if (have("idle_history_ready_ms"))
                        row(sprintf("idle, the same with %d finished jobs kept: READY=1 after", med("idle_history_jobs")),
                            sprintf("%.0f ms", med("idle_history_ready_ms")), "", "", "(no target; < 200 ms above)",
                            sprintf("peak RSS %s", mib(med("idle_history_hwm_kb"))))
                row("idle: RSS when ready (peak)", mib(med("idle_rss_kb")) " (" mib(med("idle_hwm_kb")) ")", "", "",
                    "< 32 MiB", atmost(med("idle_rss_kb"), 32768) " (peak: " atmost(med("idle_hwm_kb"), 32768) ")")
                row("idle: wake-ups per minute", sprintf("%.1f", med("idle_wakeups_per_min")),
                    sprintf("WATCHDOG=1 pings %.1f/min", med("idle_watchdog_pings_per_min")), "",
                    "none but the watchdog", med("idle_other_wakeups_per_min") == 0 ? "met" : sprintf("**MISSED**: %.1f/min more", med("idle_other_wakeups_per_min")))
                gap = med("idle_watchdog_max_gap_sec"); wd = med("idle_watchdog_sec")
                verdict = gap <= wd / 2 + 0.05 ? "met" : (gap <= wd * 3 / 4 + 0.05 ? "between ½ and ¾ of it (sd-event's rule): within the interval" : "**MISSED**")
                row("idle: longest gap between pings", sprintf("%.1f s", gap), sprintf("WATCHDOG_USEC %d s", wd), "", "½ of the interval", verdict)
        }
        if (have("startup_due1000_ms") || have("startup_minutely30d_ms") || have("startup_history100k_ms")) {
                startup_row("due1000", sprintf("start-up, %d promotions due at once: READY=1 after", med("startup_promotions")),
                            sprintf("idle start, the same %d promotions", med("startup_promotions")))
                startup_row("minutely30d", sprintf("start-up, %d minutely promotions after 30 days down: READY=1 after", med("startup_minutely")),
                            sprintf("idle start, the same %d promotions", med("startup_minutely")))
                startup_row("minutely365d", sprintf("start-up, %d minutely promotions after 365 days down: READY=1 after", med("startup_minutely")),
                            sprintf("idle start, the same %d promotions", med("startup_minutely")))
                startup_row("history100k", sprintf("start-up with %d finished job files kept: READY=1 after", med("startup_history_files")),
                            sprintf("idle start without them (%d promotions)", med("startup_promotions")))
        }
        if (have("saves_renames")) {
                row("state writes per successful job (--once)", med("saves_renames") " renames, " med("saves_fsync") " fsync + " med("saves_fdatasync") " fdatasync",
                    med("saves_polls") " polls (none saved)", "", "1 per transition: 9", med("saves_renames") == 9 ? "met" : "**MISSED**")
                if (have("saves_daemon_renames"))
                        row("state writes per scheduled job (daemon)", med("saves_daemon_renames") " renames", "", "", "9",
                            med("saves_daemon_renames") == 9 ? "met" : sprintf("**MISSED** by %d (the scheduler's creation save)", med("saves_daemon_renames") - 9))
                row("bytes written per job", sprintf("job file %.1f KiB in %d writes", med("saves_job_bytes") / 1024, med("saves_job_writes")),
                    sprintf("package %d B, log %d B", med("saves_package_bytes"), med("saves_log_bytes")), "", "(no target)", "")
        }
}
