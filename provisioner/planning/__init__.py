"""Planning: what would change, as a pure function of the roster, the state, the settings and
today. Nothing here writes anything, so ``plan`` and ``leavers plan`` can never change a thing."""
