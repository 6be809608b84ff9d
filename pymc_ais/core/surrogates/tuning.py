"""The tuning constants of the surrogate controls, in one place.

Their measurements are on the docs' benchmarks page and in the changelog.
"""

# polynomial surrogates
MIN_GAIN = 0.9  # a control must cut the held-out variance by 10 %
MEANS_SHARE = 0.05  # the control means' error variance: at most this share of each estimate's
MEANS_REPLICATES = 8  # independent scrambled sequences behind the control means and their error
MAX_PILOT_SHARE = 0.1  # the pilot may take at most this share of the budget

# polynomial chaos
CHAOS_USE = 0.1  # a chaos is a control when its relative leave-one-out error is below this
CHAOS_EXACT = 1e-14  # ... and stops once the error is at rounding level
CHAOS_MAX_PILOT_RUNS = 4096  # the pilot stops doubling beyond this many runs (fit time and memory)
CHAOS_ROUNDING = 1e-13  # relative standard error given to a chaos's exact means for the fit's rounding
PLAIN_BLOCK_SHARE = 0.05  # the one block drawn before a chaos's residual is sampled plainly
CHAOS_MIN_PILOT = 8  # points of the first chaos pilot at least
CHAOS_MAX_PILOT_SHARE = 0.75  # the chaos pilot may grow to this share of the points (Ishigami at
# 500 runs: MSE 2e-11 with half, 3e-16 with three quarters, 10 seeds)
