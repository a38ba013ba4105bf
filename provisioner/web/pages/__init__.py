"""The pages of the web interface, one module per part of the termly job: the home page and a
new workspace (``home``); a roster chosen, checked, planned and applied (``roster``); the files to
download and what the admin says was done with them (``downloads``); the leaver cleanup
(``leavers``); the processor register (``register``); a parent's requests about one pupil
(``pupil``); the audit log checked, and anchored again (``audit``); and the settings, the purge
and the Stop button (``settings``). ``app`` routes to them.
"""
