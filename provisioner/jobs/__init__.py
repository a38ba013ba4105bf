"""The jobs: each operation of the tool carried out on an open workspace, step by step (plan,
ask, deliver, record). The facade opens the workspace and its state, holds the lock, and calls
these; nothing here parses a command line or prints."""
