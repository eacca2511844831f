"""The planning package's tolerances, each named once: what it compares, in what unit, and why.

All are dimensionless ratios unless said otherwise. HiGHS's own primal and dual feasibility
tolerances (``1e-7``, absolute, in the units of each row) set the scale: a tolerance that
decides what a solver *meant* sits below them, one that accepts an answer sits above them.
"""

SOLVER_TOLERANCE = 1e-7
"""Default relative optimality tolerance asked of HiGHS's interior point and PDLP.

It bounds the relative duality gap ``|primal − dual| / max(1, |primal|)``; ``1e-7`` matches
HiGHS's feasibility tolerances, so the default plan is as exact as the dual simplex's.
"""

IPM_TOLERANCE_CAP = 1e-8
"""The loosest optimality tolerance (relative duality gap) given to interior point.

HiGHS's default for interior point, which ``tolerance`` may tighten but not loosen: interior
point reaches it in a few more iterations, whereas PDLP's first-order iterations converge
slowly and are the method a looser ``tolerance`` is for.
"""

LEXICOGRAPHIC_SLACK = 1e-9
"""How far stage 2 of the lexicographic objective may let ``Σ_t z_t`` fall below stage 1's optimum.

Relative to ``|Σ_t z_t|``, and absolute (in shares) when that is below 1. Far below the
solvers' feasibility tolerance, so the stage-1 optimum is kept; not zero, which round-off in
the warm-started stage 2 could make infeasible.
"""

NEGLIGIBLE = 1e-9
"""Relative size below which a solver's value is reported as zero.

Used for capacity built (relative to the largest investment of the plan, or to 1 if that is
smaller, in activity units) and for the relaxations that explain an infeasible plan (relative
to the largest requirement, or 1). Two orders below the solvers' feasibility tolerance, so
only round-off around an exact zero is dropped.
"""

ELASTIC_WEIGHT_FLOOR = 1e-6
"""Smallest requirement, relative to the largest positive one, that weighs a relaxation.

The elastic programme charges each relaxation ``1 / |requirement|``; zero or tiny targets and
limits are charged as if they were this share of the largest, so the costs stay finite and
span at most six orders of magnitude.
"""

ACCEPT_TOLERANCE = 1e-6
"""Relative accuracy the structured solver's certificates must reach for its answer to be accepted.

Residual of the Leontief solves, dual infeasibility of the prices and relative duality gap
(dimensionless). An answer that misses it is not wrong but unproven: ``auto`` then solves the
LP with HiGHS instead.
"""

BINDING_TOLERANCE = 1e-6
"""Slack below which a resource limit is reported as binding, relative to ``max(1, |limit|)``.

Above the solvers' feasibility tolerance, so a limit the solver meets only within its
tolerance still counts as binding.
"""
