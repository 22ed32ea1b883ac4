# mk/campaign.mk — `make crash-campaign`: the randomized crash campaign
# (tests/crash-campaign.sh; its header lists the seven invariants).
#
#   make crash-campaign                  1000 SIGKILLs, a fresh seed (printed)
#   make crash-campaign N=200 SEED=42    200 kills, the decisions of seed 42
#
# N and SEED are read only from the command line or the environment, so a
# default another mk/*.mk gives a variable of the same name is not taken.
# A violation ends the run with exit 1, the seed, the round, the invariant,
# the replay command and the round's folder kept in /tmp.

CAMPAIGN_N    = $(if $(filter command line environment,$(origin N)),$(N),1000)
CAMPAIGN_SEED = $(if $(filter command line environment,$(origin SEED)),$(SEED))

.PHONY: crash-campaign
crash-campaign: $(BUILD)/.deps-test all $(BUILD)/mock-dev2prod
	@bash tests/crash-campaign.sh -n $(CAMPAIGN_N) $(if $(CAMPAIGN_SEED),-s $(CAMPAIGN_SEED)) -b $(BUILD)

# `make powercut-campaign`: the same campaign with a power cut after every
# kill (the state folder on powercutfs, tests/powercut/; root and FUSE).
#   make powercut-campaign N=1000 SEED=42
.PHONY: powercut-campaign
powercut-campaign: $(BUILD)/.deps-test all $(BUILD)/mock-dev2prod $(BUILD)/powercutfs
	@bash tests/crash-campaign.sh -p -n $(CAMPAIGN_N) $(if $(CAMPAIGN_SEED),-s $(CAMPAIGN_SEED)) -b $(BUILD)
