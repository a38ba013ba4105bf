"""The plans' words for what happens to an account and why, as the state records them and each
delivery strategy reads them: ``provisioning`` and ``cleanup`` use them from here, and so do the
strategies, which every command loads with the connectors (``status`` too). Kept apart from the
planning itself, so that loading a strategy does not load the planning and what it imports."""

# What an apply does with a pupil on a platform (planning/provisioning.py).
CREATE, UPDATE, UNCHANGED, LEAVER = "create", "update", "unchanged", "leaver"

# What the leaver cleanup does with an account, and why (planning/cleanup.py).
DISABLE, DELETE, RESTORE = "disable", "delete", "restore"
LEFT, ABSENT, EXCLUDED, RETURNED, ERASED = "left", "absent", "excluded", "returned", "erased"
OUT_OF_SCOPE = "out_of_scope"
