# tests/config.sh — configuration blocks the test harnesses share (sourced
# by tests/lib.sh, and so by tests/lab.sh, and by tests/crash-campaign.sh):
#   dev_prod_tenants URL DEV_AUTH PROD_AUTH   "tenants:": dev (111) and prod
#                                            (222) on URL, api_key auth with
#                                            the given key_file:/credential:
#   nightly_promotion [LINE]                  "promotions:" with nightly,
#                                            dev -> prod at 02:30, and LINE
#                                            (a key of its own) if given
dev_prod_tenants() {
        cat <<YAML
tenants:
  dev:
    url: $1
    tenant_id: "111"
    auth: { type: api_key, $2 }
  prod:
    url: $1
    tenant_id: "222"
    auth: { type: api_key, $3 }
YAML
}

nightly_promotion() {
        cat <<YAML
promotions:
  - name: nightly
    package: "54321"
    from: dev
    to: prod
    schedule: "30 2 * * *"
YAML
        [ -z "${1:-}" ] || echo "    $1"
}
