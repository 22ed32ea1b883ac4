#!/usr/bin/env bash
# The man pages (man/dev2prodd.8, man/dev2prodd.yaml.5, man/dev2prodctl.1):
#  - clean under `mandoc -Tlint -W warning` (no output at all);
#  - complete against the code, which is read here, not copied:
#      every key of the key-handler tables of daemon/config.c has an
#        ".It Ic KEY" entry in dev2prodd.yaml.5, and every ".It Ic" entry of
#        its CONFIGURATION section is such a key;
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
# to their "};", plus the SETTING_KEYS macro those tables expand (from
# "#define SETTING_KEYS(" to its first line without a trailing backslash).
# Each entry starts with { "key", ...  Other tables (settings_desc, the
# cron field names) are not key tables and are not read.
awk -v tabs="$TMP/ntables" '
        /^static const struct key_handler [A-Za-z_0-9]+\[\] = \{/ { tab = 1; n++; next }
        tab && /^\};/ { tab = 0; next }
        /^#define SETTING_KEYS\(/ { mac = 1; n++; next }
        (tab || mac) && match($0, /^[ \t]*\{ *"[^"]*"/) {
                k = substr($0, RSTART, RLENGTH)
                sub(/^[^"]*"/, "", k); sub(/"$/, "", k)
                print k
        }
        mac && !/\\[ \t]*$/ { mac = 0 }
        END { print n + 0 > tabs }
' daemon/config.c | sort -u > "$TMP/keys"
ntables=$(cat "$TMP/ntables"); nkeys=$(wc -l < "$TMP/keys")
# root, defaults, auth, tenant and promotion tables plus the macro, today;
# far fewer means the extraction no longer understands config.c
if [ "$ntables" -ge 5 ] && [ "$nkeys" -ge 25 ]; then
        ok "found $nkeys config keys in $ntables key tables of daemon/config.c"
else
        bad "found only $nkeys keys in $ntables key tables of daemon/config.c: has the table layout changed?"
fi
conf=$(section "$P5" CONFIGURATION)
missing=0
while read -r k; do
        if ! printf '%s' "$k" | grep -Eq '^[A-Za-z_][A-Za-z0-9_]*$'; then
                bad "config key '$k' (daemon/config.c) is a valid key name"; missing=$((missing + 1)); continue
        fi
        item_in "$conf" "$k" Ic || { bad "config key '$k' (daemon/config.c) has no '.It Ic $k' in CONFIGURATION of $P5"; missing=$((missing + 1)); }
done < "$TMP/keys"
[ "$missing" = 0 ] && ok "every config key of daemon/config.c is documented in $P5"
# and the other way round: no documented key that the code does not know
extra=0
for k in $(printf '%s\n' "$conf" | sed -n 's/^\.It Ic \([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' | sort -u); do
        grep -qx "$k" "$TMP/keys" || { bad "$P5 documents key '$k', which no key table of daemon/config.c has"; extra=$((extra + 1)); }
done
[ "$extra" = 0 ] && ok "every key documented in $P5 exists in daemon/config.c"

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
        done
        for c in $(sed -n 's/.*credential: *\([A-Za-z0-9._-]*\).*/\1/p' "$ex/dev2prodd.yaml" | sort -u); do
                echo "not-a-real-secret" > "$ex/creds/$c"; chmod 600 "$ex/creds/$c"
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
