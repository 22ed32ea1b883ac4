#!/usr/bin/env bash
# The man pages (man/dev2prodd.8, man/dev2prodd.yaml.5, man/dev2prodctl.1):
#  - clean under `mandoc -Tlint -W warning` (no output at all);
#  - complete against the code, which is read here, not copied:
#      every key of the key-handler tables of daemon/config.c and every
#        setting of daemon/settings.h has an ".It Ic KEY" entry in
#        dev2prodd.yaml.5, and every ".It Ic" entry of its CONFIGURATION
#        section is such a key;
#      every setting (the SETTINGS rows of daemon/settings.h) is under
#        "Promotion settings", with the default and range of its row, and
#        nothing else is;
#      every option of daemon/main.c (struct option opts[] and the getopt
#        short options) is in the OPTIONS of dev2prodd.8, and likewise
#        daemon/ctl.c's options and commands in dev2prodctl.1;
#      every DEV2PROD_ journal field written by daemon/log.c and every
#        MESSAGE_ID of daemon/log.h is in dev2prodd.8;
#      every environment variable the code reads is in ENVIRONMENT;
#  - the complete example configuration of dev2prodd.yaml.5 passes
#    `dev2prodd --check-config` (when BUILD_DIR/dev2prodd is built).
# Usage: tests/integration/test_man.sh [BUILD_DIR]
# Exit 0 all passed, 1 something failed, 77 mandoc is not installed.
set -u
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
cd "$(dirname "$0")/../.." || exit 1

command -v mandoc > /dev/null || { echo "SKIP: mandoc not installed"; exit 77; }

FAILURES=0
ok()  { echo "ok - $*"; }
bad() { echo "not ok - $*"; FAILURES=$((FAILURES + 1)); }

P8=man/dev2prodd.8
P5=man/dev2prodd.yaml.5
P1=man/dev2prodctl.1
PAGES="$P8 $P5 $P1"

TMP=$(mktemp -d /tmp/d2p-man.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# section PAGE NAME: the lines of section ".Sh NAME" of PAGE
section() {
        awk -v want=".Sh $2" '/^\.Sh /{ on = ($0 == want); next } on' "$1"
}
# item_in TEXT WORD MACRO: an ".It" line of TEXT names WORD with MACRO (Ic,
# Fl, Cm, Va, Ev), alone or in a list such as ".It Fl c , Fl -config Ar file"
item_in() {
        printf '%s\n' "$1" | grep -Eq "^\.It (.*[ ,] *)?$3 $2( |$)"
}

# ---- the pages exist and lint clean ------------------------------------------
for p in $PAGES; do
        if [ ! -f "$p" ]; then
                bad "$p exists"
                continue
        fi
        out=$(mandoc -Tlint -W warning "$p" 2>&1); rc=$?
        if [ -z "$out" ] && [ "$rc" = 0 ]; then
                ok "$p: mandoc -Tlint -W warning is silent"
        else
                bad "$p: mandoc -Tlint -W warning (exit $rc):"
                printf '%s\n' "$out" | sed 's/^/    /'
        fi
done
[ "$FAILURES" = 0 ] || { echo "$FAILURES check(s) failed"; exit 1; }

# ---- sections -----------------------------------------------------------------
need_sections() {  # PAGE SECTION...
        local p=$1 s missing=""; shift
        for s in "$@"; do grep -qx "\.Sh $s" "$p" || missing="$missing '$s'"; done
        if [ -z "$missing" ]; then ok "$p has the sections $*"; else bad "$p lacks the sections$missing"; fi
}
need_sections "$P8" NAME SYNOPSIS DESCRIPTION OPTIONS SIGNALS "JOURNAL FIELDS" ENVIRONMENT FILES \
        "EXIT STATUS" EXAMPLES "SEE ALSO"
need_sections "$P5" NAME SYNOPSIS DESCRIPTION CONFIGURATION FILES EXAMPLES "SEE ALSO"
need_sections "$P1" NAME SYNOPSIS DESCRIPTION OPTIONS ENVIRONMENT FILES "EXIT STATUS" EXAMPLES "SEE ALSO"

# ---- configuration keys ---------------------------------------------------------
# The key tables of config.c are the arrays of struct key_handler, from
#     static const struct key_handler NAME[] = {
# to their "};".  Each entry starts with { "key", ...  The settings' keys
# are not written there: those tables take them from the rows of
# daemon/settings.h (below).  Other tables (the cron field names) are not
# key tables and are not read.
awk -v tabs="$TMP/ntables" '
        /^static const struct key_handler [A-Za-z_0-9]+\[\] = \{/ { tab = 1; n++; next }
        tab && /^\};/ { tab = 0; next }
        tab && match($0, /^[ \t]*\{ *"[^"]*"/) {
                k = substr($0, RSTART, RLENGTH)
                sub(/^[^"]*"/, "", k); sub(/"$/, "", k)
                print k
        }
        END { print n + 0 > tabs }
' daemon/config.c | sort -u > "$TMP/table-keys"
# The settings: the rows X(key, member, type, default, min, max) of
# "#define SETTINGS(X)" in daemon/settings.h (to its first line without a
# trailing backslash), one line each in $TMP/settings as
#     key|type|default|min|max
# with the arguments as written (e.g. SEC(2 * 3600)).
awk '
        /^#define SETTINGS\(X\)/ { on = 1; next }
        on {
                line = $0
                last = line !~ /\\[ \t]*$/
                sub(/\\[ \t]*$/, "", line)
                if (match(line, /^[ \t]*X\(/)) {
                        # the arguments, split at the commas outside parentheses
                        rest = substr(line, RSTART + RLENGTH); depth = 0; arg = ""; n = 0
                        for (i = 1; i <= length(rest); i++) {
                                c = substr(rest, i, 1)
                                if (c == "(") depth++
                                if (c == ")" && depth-- == 0) break
                                if (c == "," && depth == 0) { a[++n] = arg; arg = ""; continue }
                                arg = arg c
                        }
                        a[++n] = arg
                        for (i = 1; i <= n; i++) gsub(/^[ \t]+|[ \t]+$/, "", a[i])
                        if (n == 6) print a[1] "|" a[3] "|" a[4] "|" a[5] "|" a[6]
                        else print "?" line "|||||"
                }
                if (last) on = 0
        }
' daemon/settings.h > "$TMP/settings"
nsettings=$(wc -l < "$TMP/settings")
if [ "$nsettings" -ge 8 ] && ! grep -q '^?' "$TMP/settings"; then
        ok "found $nsettings settings in the SETTINGS rows of daemon/settings.h"
else
        bad "found only $nsettings settings in daemon/settings.h, or a row of another shape: has SETTINGS(X) changed?"
        grep '^?' "$TMP/settings" | sed 's/^?/    /; s/|*$//'
fi
{ cat "$TMP/table-keys"; cut -d'|' -f1 "$TMP/settings"; } | sort -u > "$TMP/keys"
ntables=$(cat "$TMP/ntables"); nkeys=$(wc -l < "$TMP/keys")
# root, defaults, auth, tenant and promotion tables, today; far fewer
# means the extraction no longer understands config.c
if [ "$ntables" -ge 5 ] && [ "$nkeys" -ge 25 ]; then
        ok "found $nkeys config keys in $ntables key tables of daemon/config.c and in daemon/settings.h"
else
        bad "found only $nkeys keys in $ntables key tables of daemon/config.c: has the table layout changed?"
fi
conf=$(section "$P5" CONFIGURATION)
missing=0
while read -r k; do
        if ! printf '%s' "$k" | grep -Eq '^[A-Za-z_][A-Za-z0-9_]*$'; then
                bad "config key '$k' (daemon/config.c) is a valid key name"; missing=$((missing + 1)); continue
        fi
        item_in "$conf" "$k" Ic || { bad "config key '$k' (daemon/config.c or settings.h) has no '.It Ic $k' in CONFIGURATION of $P5"; missing=$((missing + 1)); }
done < "$TMP/keys"
[ "$missing" = 0 ] && ok "every config key of daemon/config.c and daemon/settings.h is documented in $P5"
# and the other way round: no documented key that the code does not know
extra=0
for k in $(printf '%s\n' "$conf" | sed -n 's/^\.It Ic \([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' | sort -u); do
        grep -qx "$k" "$TMP/keys" || { bad "$P5 documents key '$k', which no key table of daemon/config.c and no setting has"; extra=$((extra + 1)); }
done
[ "$extra" = 0 ] && ok "every key documented in $P5 exists in daemon/config.c or daemon/settings.h"

# ---- settings ---------------------------------------------------------------------
# Each setting is an item of "Promotion settings" (and only the settings
# are), whose text says "Range MIN to MAX; default DEFAULT." as in its row
# (durations compared by value: 60s is 1m), or for an enum type "Default"
# and the word of its default (ON_WARNINGS_PROCEED: proceed).
# entry PAGE_TEXT KEY: the text of the ".It Ic KEY" item, on one line
entry() {
        printf '%s\n' "$1" | awk -v k="$2" '
                /^\.It / { on = ($0 ~ "^\\.It Ic " k "( |$)") ; next }
                /^\.El/ { on = 0 }
                on { printf "%s ", $0 }'
}
# ms VALUE: a duration of the page ("1h30m", "100ms") or an expression of
# the row ("SEC(2 * 3600)", "MSEC(100)") in milliseconds; a plain number
# as it is; "?" when unreadable
ms() {
        awk -v v="$1" 'BEGIN {
                if (v ~ /^[0-9]+$/) { print v; exit }
                if (match(v, /^M?SEC\([0-9 *]+\)$/)) {
                        unit = v ~ /^MSEC/ ? 1 : 1000
                        sub(/^M?SEC\(/, "", v); sub(/\)$/, "", v)
                        n = split(v, f, /[ ]*\*[ ]*/); p = 1
                        for (i = 1; i <= n; i++) p *= f[i]
                        print p * unit; exit
                }
                split("ms s m h d", u, " "); split("1 1000 60000 3600000 86400000", m, " ")
                t = 0
                while (v != "") {
                        if (!match(v, /^[0-9]+(ms|s|m|h|d)/)) { print "?"; exit }
                        num = substr(v, 1, RLENGTH); v = substr(v, RLENGTH + 1)
                        match(num, /[a-z]+$/); un = substr(num, RSTART); num = substr(num, 1, RSTART - 1)
                        for (i = 1; i <= 5; i++) if (u[i] == un) t += num * m[i]
                }
                print t
        }'
}
ps=$(printf '%s\n' "$conf" | awk '/^\.Ss /{ on = ($0 == ".Ss Promotion settings"); next } on')
if [ -z "$ps" ]; then
        bad "$P5 has a subsection 'Promotion settings' in CONFIGURATION"
fi
missing=0
while IFS='|' read -r k type def min max; do
        e=$(entry "$ps" "$k")
        if [ -z "$e" ]; then
                bad "setting '$k' (daemon/settings.h) has no '.It Ic $k' under 'Promotion settings' in $P5"
                missing=$((missing + 1)); continue
        fi
        case $type in
        DURATION|UINT)
                r=$(printf '%s' "$e" | sed -n 's/.*Range \([^ ]*\) to \([^;]*\); default \([^ .]*\)\..*/\1 \2 \3/p')
                set -- $r
                if [ $# != 3 ]; then
                        bad "setting '$k': its entry in $P5 does not say 'Range MIN to MAX; default DEFAULT.'"
                        missing=$((missing + 1))
                elif page="$(ms "$1") $(ms "$2") $(ms "$3")" code="$(ms "$min") $(ms "$max") $(ms "$def")" &&
                     [ "$page" != "$code" ] || [ -z "${page##*\?*}" ] || [ -z "${code##*\?*}" ]; then
                        bad "setting '$k': $P5 says range $1 to $2, default $3; daemon/settings.h says $min to $max, default $def"
                        missing=$((missing + 1))
                fi ;;
        *)
                word=$(printf '%s' "${def#"${type}_"}" | tr 'A-Z_' 'a-z-')
                if ! printf '%s' "$e" | grep -q "Default \.Cm $word\( \.\)\? *$"; then
                        bad "setting '$k': its entry in $P5 does not end 'Default .Cm $word' ($def of daemon/settings.h)"
                        missing=$((missing + 1))
                fi ;;
        esac
done < "$TMP/settings"
[ "$missing" = 0 ] && ok "all $nsettings settings of daemon/settings.h are under 'Promotion settings' in $P5, with their defaults and ranges"
extra=0
for k in $(printf '%s\n' "$ps" | sed -n 's/^\.It Ic \([A-Za-z_][A-Za-z0-9_]*\).*/\1/p'); do
        cut -d'|' -f1 "$TMP/settings" | grep -qx "$k" || { bad "$P5 has '$k' under 'Promotion settings', which is no row of daemon/settings.h"; extra=$((extra + 1)); }
done
[ "$extra" = 0 ] && ok "every key under 'Promotion settings' of $P5 is a setting of daemon/settings.h"

# ---- options and commands -------------------------------------------------------
# long_options FILE: the names of `struct option opts[]`
long_options() {
        awk '/struct option opts\[\] = \{/ { on = 1; next } on && /^[ \t]*\};/ { on = 0 } on' "$1" |
                sed -n 's/^[ \t]*{ *"\([^"]*\)".*/\1/p'
}
# short_options FILE: the letters of getopt_long's option string
short_options() {
        sed -n 's/.*getopt_long([^"]*"\([^"]*\)".*/\1/p' "$1" | head -1 | tr -d ':+-' | fold -w1
}
check_options() {  # SOURCE PAGE
        local src=$1 page=$2 opts o n=0 missing=0
        opts=$(section "$page" OPTIONS)
        for o in $(long_options "$src"); do
                n=$((n + 1))
                item_in "$opts" "-$o" Fl || { bad "$src: option --$o is not in OPTIONS of $page"; missing=$((missing + 1)); }
        done
        [ "$n" -ge 3 ] || { bad "$src: found only $n long options in struct option opts[]"; return; }
        for o in $(short_options "$src"); do
                n=$((n + 1))
                item_in "$opts" "$o" Fl || { bad "$src: option -$o is not in OPTIONS of $page"; missing=$((missing + 1)); }
        done
        [ "$missing" = 0 ] && ok "all $n options of $src are in OPTIONS of $page"
}
check_options daemon/main.c "$P8"
if [ -f daemon/ctl.c ]; then
        check_options daemon/ctl.c "$P1"
        cmds=$(awk '/struct command commands\[\] = \{/ { on = 1; next } on && /^[ \t]*\};/ { on = 0 } on' daemon/ctl.c |
                sed -n 's/^[ \t]*{ *"\([^"]*\)".*/\1/p')
        desc=$(section "$P1" DESCRIPTION)
        n=0 missing=0
        for c in $cmds; do
                n=$((n + 1))
                item_in "$desc" "$c" Cm || { bad "daemon/ctl.c: command '$c' has no '.It Cm $c' in $P1"; missing=$((missing + 1)); }
        done
        if [ "$n" -lt 5 ]; then bad "daemon/ctl.c: found only $n commands in commands[]"
        elif [ "$missing" = 0 ]; then ok "all $n commands of daemon/ctl.c are described in $P1"; fi
else
        ok "daemon/ctl.c is not there yet: its options and commands are not checked"
fi

# ---- journal fields and message ids -------------------------------------------------
jf=$(section "$P8" "JOURNAL FIELDS")
fields=$(grep -o 'DEV2PROD_[A-Z_]*=' daemon/log.c | sort -u)
n=0 missing=0
for f in $fields; do
        n=$((n + 1))
        item_in "$jf" "$f" Va || { bad "daemon/log.c: journal field $f has no '.It Va $f' in JOURNAL FIELDS of $P8"; missing=$((missing + 1)); }
done
if [ "$n" -lt 4 ]; then bad "found only $n DEV2PROD_ fields in daemon/log.c"
elif [ "$missing" = 0 ]; then ok "all $n DEV2PROD_ journal fields of daemon/log.c are in $P8"; fi
n=0 missing=0
for id in $(sed -n 's/^#define MSGID_[A-Z_]* *"\([0-9a-f]\{32\}\)".*/\1/p' daemon/log.h); do
        n=$((n + 1))
        printf '%s\n' "$jf" | grep -q "$id" || { bad "daemon/log.h: MESSAGE_ID $id is not in JOURNAL FIELDS of $P8"; missing=$((missing + 1)); }
done
if [ "$n" -lt 5 ]; then bad "found only $n MESSAGE_IDs in daemon/log.h"
elif [ "$missing" = 0 ]; then ok "all $n MESSAGE_IDs of daemon/log.h are in $P8"; fi

# ---- failure codes ----------------------------------------------------------------------
fr=$(section "$P8" DESCRIPTION)
n=0 missing=0
for c in $(sed -n 's/^ *X([A-Z_]*, *"\([a-z-]*\)").*/\1/p' daemon/failure.h); do
        n=$((n + 1))
        item_in "$fr" "$c" Cm || { bad "daemon/failure.h: failure code $c has no '.It Cm $c' in $P8"; missing=$((missing + 1)); }
done
if [ "$n" -lt 10 ]; then bad "found only $n failure codes in daemon/failure.h"
elif [ "$missing" = 0 ]; then ok "all $n failure codes of daemon/failure.h are in $P8"; fi

# ---- environment ----------------------------------------------------------------------
# env_vars FUNCTIONS FILE...: the variables named in FUNCTIONS("X") calls,
# FUNCTIONS an extended regex such as 'getenv|first_dir_of_env'
env_vars() {
        local fns=$1; shift
        grep -ohE "($fns)\(\"[A-Za-z_][A-Za-z0-9_]*\"\)" "$@" | sed 's/.*("\(.*\)")/\1/' | sort -u
}
# check_env PAGE VARIABLE...: each is an ".It Ev" of ENVIRONMENT (WHAT: where they come from)
check_env() {
        local page=$1 e n=0 missing=0 envs; shift
        envs=$(section "$page" ENVIRONMENT)
        for e in $(printf "%s\n" "$@" | sort -u); do
                n=$((n + 1))
                item_in "$envs" "$e" Ev || { bad "$page: $e (read in $*) is not in ENVIRONMENT"; missing=$((missing + 1)); }
        done
        [ "$missing" = 0 ] && ok "all $n environment variables read by $WHAT are in ENVIRONMENT of $page"
}
# the daemon: everything its sources read
WHAT="daemon/*.c but ctl.c" check_env "$P8" \
        $(env_vars 'getenv|first_dir_of_env' $(ls daemon/*.c | grep -v '^daemon/ctl\.c$'))
# dev2prodctl: what ctl.c reads, and the defaults of the configuration
# (state_directory, control_socket); it opens no secrets, so the
# credentials folder is not its business
[ -f daemon/ctl.c ] && WHAT="daemon/ctl.c and the configuration's defaults" check_env "$P1" \
        $(env_vars getenv daemon/ctl.c) $(env_vars first_dir_of_env daemon/config.c)

# ---- the example configuration is valid ------------------------------------------------
D2P="$BUILD/dev2prodd"
if [ ! -x "$D2P" ]; then
        ok "the example configuration is not checked: no $D2P (run make) # SKIP"
elif [ ! -f /usr/share/zoneinfo/Europe/Berlin ]; then
        ok "the example configuration is not checked: no time zone data (install tzdata) # SKIP"
else
        ex="$TMP/ex"
        mkdir -p "$ex/creds"
        # the literal block that starts with the file's name, with every path
        # moved into the temp folder
        section "$P5" EXAMPLES | awk '/^# \/etc\/dev2prodd\/dev2prodd\.yaml$/ { on = 1 } on && /^\.Ed/ { exit } on' |
                sed -e "s#/etc/dev2prodd/#$ex/#g" -e "s#/var/lib/dev2prodd#$ex/state#g" \
                    -e "s#/run/dev2prodd/#$ex/#g" > "$ex/dev2prodd.yaml"
        # the secret and CA files it names, and every credential
        for f in $(grep -oE "$ex/[A-Za-z0-9._-]+\.(key|password|token|pem)" "$ex/dev2prodd.yaml" | sort -u); do
                echo "not-a-real-secret" > "$f"; chmod 600 "$f"
                case $f in *webhook*) echo "https://hooks.example.net/not-a-real-token" > "$f";; esac
        done
        for c in $(sed -n 's/.*credential: *\([A-Za-z0-9._-]*\).*/\1/p' "$ex/dev2prodd.yaml" | sort -u); do
                echo "not-a-real-secret" > "$ex/creds/$c"; chmod 600 "$ex/creds/$c"
                case $c in *webhook*) echo "https://hooks.example.net/not-a-real-token" > "$ex/creds/$c";; esac
        done
        if [ "$(wc -l < "$ex/dev2prodd.yaml")" -lt 20 ]; then
                bad "found the example configuration in EXAMPLES of $P5 (a literal block starting '# /etc/dev2prodd/dev2prodd.yaml')"
        elif CREDENTIALS_DIRECTORY="$ex/creds" "$D2P" --check-config --config "$ex/dev2prodd.yaml" > "$TMP/check.out" 2>&1; then
                ok "the example configuration of $P5 passes dev2prodd --check-config"
                # and it uses every key there is
                unused=""
                for k in $(cat "$TMP/keys"); do
                        grep -Eq "(^|[ {,])$k:" "$ex/dev2prodd.yaml" || unused="$unused $k"
                done
                if [ -z "$unused" ]; then ok "the example configuration of $P5 uses every key"
                else bad "the example configuration of $P5 does not use the keys:$unused"; fi
        else
                bad "the example configuration of $P5 passes dev2prodd --check-config:"
                sed 's/^/    /' "$TMP/check.out"
        fi
fi

if [ "$FAILURES" = 0 ]; then echo "all checks passed"; exit 0; fi
echo "$FAILURES check(s) failed"
exit 1
