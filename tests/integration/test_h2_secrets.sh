#!/usr/bin/env bash
# Secrets stay out of the debug log over HTTP/2 (and HTTP/1.1) on TLS, and
# server text cannot forge or colour a log line.
#
# A real HTTPS server that negotiates h2 by ALPN (nghttpd, Debian package
# nghttp2-server) with a self-signed certificate for 127.0.0.1 and
# localhost, trusted through the tenants' ca_file:.  It is not the vendor
# API: every promotion fails at the export (404), which is fine: by then the
# daemon has sent its Authorization header, and libcurl has described it in
# its own formats (7.88: "h2h3 [authorization: ...]" text lines plus the
# "> Authorization: ..." header dump; 8.x: "[HTTP/2] [1] [authorization: ...]").
# One promotion per kind of secret: an api_key, a bearer token and a session
# key (nghttpd serves a file as the login answer, so the daemon then sends
# "Authorization: <session key>").  A second server, openssl s_server -www
# (no ALPN: HTTP/1.1 over TLS), takes one api_key promotion.
# Every run is at DEV2PRODD_LOG_LEVEL=debug.  Checked: HTTP/2 was used; the
# Authorization lines were shown redacted; no secret (plain or base64)
# anywhere in the daemon's stdout, stderr or state folder; and, as a
# control, the server's own verbose log does hold the secrets (they were
# sent, and the search finds them).
# Forging: the certificate's subject (printed by libcurl in every run) and
# the export answers of two more tenants hold a newline, ESC sequences, a
# C1 control and invalid UTF-8; the subject must show up escaped, and the
# daemon's output must have no ESC byte and no C1 control, be valid UTF-8,
# and have no line that does not start with "dev2prodd: ".
. "$(dirname "$0")/../lib.sh"

command -v nghttpd > /dev/null || skip "nghttpd not found (Debian package nghttp2-server; make check installs it)"
command -v openssl > /dev/null || skip "openssl not found (Debian package openssl; make check installs it)"
command -v iconv > /dev/null || skip "iconv not found"

rand32() { local s=""; while [ ${#s} -lt 32 ]; do s+=$(head -c 64 /dev/urandom | tr -dc 'A-Za-z0-9'); done; echo "${s:0:32}"; }
S_KEY=$(rand32)         # api_key of tenant dev (h2, https://127.0.0.1)
S_TOKEN=$(rand32)       # bearer token of tenant edge (h2, https://localhost)
S_SESS=$(rand32)        # session key nghttpd hands out at the login (tenant sess)
S_PW=$(rand32)          # session password (goes in the login body only)
S_KEY1=$(rand32)        # api_key of tenant h1 (openssl s_server, HTTP/1.1)
S_ODD=$(rand32)         # api_key of the tenants whose answers try to forge lines
SECRETS=(S_KEY S_TOKEN S_SESS S_PW S_KEY1 S_ODD)
SRV_PIDS=()
cleanup_servers() { for p in "${SRV_PIDS[@]}"; do kill "$p" 2> /dev/null; wait "$p" 2> /dev/null; done; cleanup; }
trap cleanup_servers EXIT

echo "# a self-signed certificate for 127.0.0.1 and localhost"
# Its subject is server text that reaches the log whatever the daemon makes
# of the answers: libcurl prints it raw in its debug notes ("*  subject:
# ..."), here with ESC sequences, a CR LF (the LF starts a line of its own
# in libcurl's note), an invalid byte and a C1 CSI.
EVIL_O="evil $(printf '\033')[31mred$(printf '\033')[0m"
EVIL_OU=$(printf 'x\r\nforged-cert: job succeeded \xff\xc2\x9b end')
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -keyout "$T/key.pem" -out "$T/cert.pem" -subj "/CN=localhost/O=$EVIL_O/OU=$EVIL_OU" \
        -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" > "$T/openssl-req.log" 2>&1 ||
        { cat "$T/openssl-req.log"; skip "openssl cannot make a self-signed certificate here"; }

# What nghttpd serves (any method): the login answer (the session key, as
# text) and the export answers of the forging tenants; everything else 404.
DOCS="$T/htdocs"
mkdir -p "$DOCS/api/rest/authentication" "$DOCS/rest/444/dev2prod/export/types" "$DOCS/rest/555/dev2prod/export/types"
printf '%s' "$S_SESS" > "$DOCS/api/rest/authentication/login"
# not JSON: ESC sequences, a C1 CSI (U+009B), invalid UTF-8 (\xff, an
# overlong \xc0\xaf, a surrogate \xed\xa0\x80) on the first line, a forged line after
printf 'oops \033[2J\033[31mred\033[0m \xc2\x9b31m \xff\xc0\xaf\xed\xa0\x80 end\nforged-444: job succeeded\n' \
        > "$DOCS/rest/444/dev2prod/export/types/54321"
# JSON whose Id holds a newline, ESC and a C1 control
printf '{"Id": "x1\\nforged-555: job succeeded \\u001b[31mred\\u001b[0m \\u009b"}' \
        > "$DOCS/rest/555/dev2prod/export/types/54321"

echo "# nghttpd (HTTP/2 over TLS)"
H2_PORT=
for _ in $(seq 20); do
        port=$(( 20000 + RANDOM % 40000 ))
        nghttpd -v -a 127.0.0.1 -d "$DOCS" "$port" "$T/key.pem" "$T/cert.pem" > "$T/nghttpd.log" 2>&1 &
        pid=$!
        for _ in $(seq 50); do
                grep -q "listen 127.0.0.1:$port" "$T/nghttpd.log" && break
                kill -0 "$pid" 2> /dev/null || break
                sleep 0.05
        done
        if grep -q "listen 127.0.0.1:$port" "$T/nghttpd.log" && kill -0 "$pid" 2> /dev/null; then
                H2_PORT=$port; SRV_PIDS+=("$pid"); break
        fi
        kill "$pid" 2> /dev/null; wait "$pid" 2> /dev/null
done
[ -n "$H2_PORT" ] || { cat "$T/nghttpd.log"; skip "nghttpd did not start (no free port?)"; }
ok "nghttpd listens on 127.0.0.1:$H2_PORT"

echo "# openssl s_server (HTTP/1.1 over TLS: no ALPN)"
openssl s_server -accept 127.0.0.1:0 -cert "$T/cert.pem" -key "$T/key.pem" -www > "$T/s_server.log" 2>&1 < /dev/null &
SRV_PIDS+=("$!")
wait_for "$T/s_server.log" "^ACCEPT " 10 || skip "openssl s_server did not start"
H1_PORT=$(sed -n 's/^ACCEPT .*:\([0-9][0-9]*\)$/\1/p' "$T/s_server.log" | head -1)
[ -n "$H1_PORT" ] || { cat "$T/s_server.log"; skip "openssl s_server did not say its port"; }
ok "openssl s_server listens on 127.0.0.1:$H1_PORT"

printf '%s\n' "$S_KEY" > "$T/dev.key"
printf '%s' "$S_TOKEN" > "$T/edge.token"
printf '%s\n' "$S_PW" > "$T/sess.pw"
printf '%s\n' "$S_KEY1" > "$T/h1.key"
printf '%s\n' "$S_ODD" > "$T/odd.key"
chmod 600 "$T/dev.key" "$T/edge.token" "$T/sess.pw" "$T/h1.key" "$T/odd.key"
H2="https://127.0.0.1:$H2_PORT"
cat > "$CONFIG" <<YAML
state_directory: $STATE
defaults:
  poll_interval: 100ms
  retry_delay: 100ms
  retries: 1
  step_timeout: 10s
  connect_timeout: 5s
  request_timeout: 10s
tenants:
  dev:
    url: $H2
    tenant_id: "111"
    auth: { type: api_key, key_file: $T/dev.key }
    ca_file: $T/cert.pem
  edge:
    url: https://localhost:$H2_PORT
    tenant_id: "333"
    auth: { type: bearer, key_file: $T/edge.token }
    ca_file: $T/cert.pem
  sess:
    url: $H2
    tenant_id: "222"
    auth: { type: session, username: deployer, password_file: $T/sess.pw }
    ca_file: $T/cert.pem
  h1:
    url: https://127.0.0.1:$H1_PORT
    tenant_id: "666"
    auth: { type: api_key, key_file: $T/h1.key }
    ca_file: $T/cert.pem
  odd:
    url: $H2
    tenant_id: "444"
    auth: { type: api_key, key_file: $T/odd.key }
    ca_file: $T/cert.pem
  odd2:
    url: $H2
    tenant_id: "555"
    auth: { type: api_key, key_file: $T/odd.key }
    ca_file: $T/cert.pem
promotions:
  - { name: h2-key, package: "54321", from: dev, to: edge, schedule: "30 2 * * *" }
  - { name: h2-bearer, package: "54321", from: edge, to: dev, schedule: "30 2 * * *" }
  - { name: h2-session, package: "54321", from: sess, to: dev, schedule: "30 2 * * *" }
  - { name: h1-key, package: "54321", from: h1, to: dev, schedule: "30 2 * * *" }
  - { name: forge-text, package: "54321", from: odd, to: dev, schedule: "30 2 * * *" }
  - { name: forge-json, package: "54321", from: odd2, to: dev, schedule: "30 2 * * *" }
YAML
"$D2P" --config "$CONFIG" --check-config > "$T/check.out" 2>&1 || { cat "$T/check.out"; bad "the configuration loads"; finish; }

# run NAME: one --once run at debug level; stdout and stderr kept apart
run() {
        DEV2PRODD_LOG_LEVEL=debug timeout 60 "$D2P" --config "$CONFIG" --once "$1" \
                > "$T/$1.out" 2> "$T/$1.err"
        echo $? > "$T/$1.rc"
}
for p in h2-key h2-bearer h2-session h1-key forge-text forge-json; do
        run "$p"
        # the promotion fails (nghttpd is no vendor API); it must not hang or crash
        rc=$(cat "$T/$p.rc")
        check "$p: the run ended with a failure, not a crash or a timeout (exit $rc)" test "$rc" = 1
done

echo "# HTTP/2 was used, and the Authorization header was sent"
for p in h2-key h2-bearer h2-session; do
        check "$p: curl's debug account shows the request went out as HTTP/2" \
                grep -q "debug: curl > POST /rest/[0-9]*/dev2prod/export/types/54321 HTTP/2" "$T/$p.err"
        check "$p: ALPN chose h2" grep -q "ALPN: server accepted h2" "$T/$p.err"
done
check "h2-session: the daemon logged in (the login went out over HTTP/2)" \
        grep -q "debug: curl > POST /api/rest/authentication/login HTTP/2" "$T/h2-session.err"
check "h1-key: the request went out as HTTP/1.1 (s_server offers no ALPN)" \
        grep -q "debug: curl > POST /rest/666/dev2prod/export/types/54321 HTTP/1.1" "$T/h1-key.err"
for p in h2-key h2-bearer h2-session h1-key; do
        check "$p: the header dump shows the Authorization header redacted" \
                grep -q "debug: curl > Authorization: (redacted)" "$T/$p.err"
done
for p in h2-key h2-bearer h2-session; do
        # libcurl 7.88 prints "h2h3 [authorization: ...]", 8.x "[HTTP/2] [1] [authorization: ...]"
        check "$p: libcurl's HTTP/2 header text line is replaced by the fixed redaction" \
                grep -q "debug: curl \* (a line naming the Authorization header, redacted)" "$T/$p.err"
        check "$p: no debug line names the authorization header with a value" \
                bash -c '! grep -i "authorization" "$1" | grep -v -e "Authorization: (redacted)" -e "(a line naming the Authorization header, redacted)" | grep -q .' _ "$T/$p.err"
done
# control: the server saw each secret in the Authorization header (nghttpd -v
# prints the headers it receives), so the searches below look for something
# that really travelled
check "(control) nghttpd received the api key in an authorization header" grep -qF "authorization: rest_api_key=$S_KEY" "$T/nghttpd.log"
check "(control) nghttpd received the bearer token" grep -qF "authorization: Bearer $S_TOKEN" "$T/nghttpd.log"
check "(control) nghttpd received the session key" grep -qF "authorization: $S_SESS" "$T/nghttpd.log"

echo "# no secret anywhere"
b64() { printf '%s' "$1" | base64 -w0; }
corpus=("$STATE")
for p in h2-key h2-bearer h2-session h1-key forge-text forge-json; do corpus+=("$T/$p.out" "$T/$p.err"); done
check "the state folder holds job files to search" test "$(ls "$STATE"/jobs/*.json 2> /dev/null | wc -l)" -ge 6
for name in "${SECRETS[@]}"; do
        s=${!name}
        for form in plain base64; do
                case $form in
                plain) needle=$s ;;
                base64) needle=$(b64 "$s") ;;
                esac
                hits=$(grep -rlaF -- "$needle" "${corpus[@]}" 2> /dev/null)
                check "$name ($form) appears nowhere in stdout, stderr or the state folder${hits:+: found in $hits}" test -z "$hits"
        done
done

echo "# server text cannot forge or colour a line"
all="$T/all.err"
cat "$T"/*.err > "$all"
# libcurl splits the subject at its LF into two notes; each is one log line
check "the certificate subject's ESC sequences are shown escaped" \
        grep -qF 'debug: curl *  subject: CN=localhost; O=evil \x1b[31mred\x1b[0m; OU=x' "$all"
check "its second line, an invalid byte and a C1 control are shown escaped, after the daemon's prefix" \
        grep -qF 'dev2prodd: debug: curl * forged-cert: job succeeded \xff\u009b end' "$all"
check "no ESC byte in the daemon's output" bash -c '! grep -q "$(printf "\033")" "$1"' _ "$all"
check "no C1 control (U+0080..U+009F) in the daemon's output" \
        bash -c '! LC_ALL=C grep -q "$(printf "\302")[$(printf "\200")-$(printf "\237")]" "$1"' _ "$all"
check "the daemon's output is valid UTF-8" iconv -f UTF-8 -t UTF-8 -o /dev/null "$all"
check "no line starts with the forged text" bash -c '! grep -q "^forged" "$1"' _ "$all"
check "every line is the daemon's (starts with \"dev2prodd: \")" bash -c '! grep -v "^dev2prodd: " "$1" | grep -q .' _ "$all"
finish
