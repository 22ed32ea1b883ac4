#!/usr/bin/env bash
# A short run of the power-cut campaign (tests/crash-campaign.sh -p): the
# state folder on powercutfs, each SIGKILL followed by a power cut (only
# what was synced survives, or a random prefix-closed part of the rest),
# every invariant checked on what survived.  `make powercut-campaign
# N=1000` runs the long one.
CAMPAIGN_FLAGS=-p CAMPAIGN_SECONDS=${CAMPAIGN_SECONDS:-30} exec bash "$(dirname "$0")/test_crash_campaign.sh" "$@"
