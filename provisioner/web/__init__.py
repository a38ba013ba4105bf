"""The admin's browser: a local web interface for the whole termly job, for a school business
manager or teacher who lives in Excel and a browser rather than a terminal.

``provisioner serve`` starts it for one workspace on this computer only (``server``); the pages
(``pages/``, routed by ``app``, sharing ``common``) parse a form, call ``provisioner.facade`` and
render what it answers, exactly as the command line does, so no rule lives here; ``security``
keeps everyone else out; long work runs in the server (``tasks``) so a page can be reloaded while
it goes on. Templates, the style
sheet and the one small script (a file dropped anywhere on the roster's form) are package data:
nothing is loaded from outside the machine, and every page works without the script.
"""
