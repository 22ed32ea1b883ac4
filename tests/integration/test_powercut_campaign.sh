#!/usr/bin/env bash
# A short run of the power-cut campaign (tests/crash-campaign.sh -p): the
# state folder on powercutfs, each SIGKILL followed by a power cut (only
# what was synced survives, or a random prefix-closed part of the rest),
# every invariant checked on what survived.  The seed changes daily and is
# printed.  `make powercut-campaign N=1000` runs the long one.
set -u
BUILD=$(cd "${1:-build}" && pwd) || { echo "no build folder ${1:-build}"; exit 1; }
cd "$(dirname "$0")/../.." || exit 1
command -v strace > /dev/null || { echo "SKIP: strace not installed"; exit 77; }
SEED=${CAMPAIGN_SEED:-$(date -u +%Y%m%d)}
echo "# power-cut campaign, seed $SEED (replay: tests/crash-campaign.sh -p -s $SEED -n ${CAMPAIGN_KILLS:-25} -b $BUILD)"
exec bash tests/crash-campaign.sh -p -n "${CAMPAIGN_KILLS:-25}" -t "${CAMPAIGN_SECONDS:-60}" -s "$SEED" -b "$BUILD"
