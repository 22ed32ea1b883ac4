#!/usr/bin/env bash
# A short run of the randomized crash campaign (tests/crash-campaign.sh):
# 25 SIGKILLs at random moments, syscalls and states, restarting each time,
# with every invariant checked after each kill.  The seed changes daily and
# is printed, so a failure can be replayed: tests/crash-campaign.sh -s SEED.
# `make crash-campaign` runs the long one (1000 kills).
# CAMPAIGN_FLAGS=-p (test_powercut_campaign.sh) adds a power cut to each kill.
set -u
BUILD=$(cd "${1:-build}" && pwd) || { echo "no build folder ${1:-build}"; exit 1; }
cd "$(dirname "$0")/../.." || exit 1
command -v strace > /dev/null || { echo "SKIP: strace not installed"; exit 77; }
SEED=${CAMPAIGN_SEED:-$(date -u +%Y%m%d)} FLAGS=${CAMPAIGN_FLAGS:-}
echo "# crash campaign ${FLAGS:+($FLAGS) }seed $SEED (replay: tests/crash-campaign.sh $FLAGS${FLAGS:+ }-s $SEED -n ${CAMPAIGN_KILLS:-25} -b $BUILD)"
exec bash tests/crash-campaign.sh $FLAGS -n "${CAMPAIGN_KILLS:-25}" -t "${CAMPAIGN_SECONDS:-30}" -s "$SEED" -b "$BUILD"
