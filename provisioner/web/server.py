"""Running the web interface: a loopback socket, uvicorn, the address with its one-time key,
and a way to stop from the page as well as with Ctrl-C.

The socket is bound here (not by uvicorn) so a free port is chosen without a race and the
address printed is the one listening before the browser is opened.
"""

from __future__ import annotations

import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path

from provisioner.errors import UsageError
from provisioner.web.security import Tokens, check_bind


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host`` (loopback only) and ``port`` (0: a free one)."""
    check_bind(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.bind((host, port))
    except OSError as exc:  # the port is taken, or the address is not this computer's
        sock.close()
        raise UsageError(f"cannot listen on {host}, port {port}: {(exc.strerror or 'refused').lower()}",
                         hint="leave out --port to use a free one, and --host to use 127.0.0.1") from None  # fmt: skip
    sock.listen(64)
    return sock


def base_address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


class Server:
    """One start of the interface on one workspace: ``run`` blocks until Ctrl-C or the Stop button."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0):
        import uvicorn  # the server's libraries load only when it starts

        from provisioner.web.app import create_app

        self.tokens = Tokens()
        self.socket = listen(host, port)
        self.address = self.tokens.address(base_address(self.socket))
        self.app = create_app(root, self.tokens, stop=self.stop)
        # No access log: an address may carry a pupil's name (a search on the pupil page).
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off"))

    def stop(self) -> None:
        self.server.should_exit = True

    def run(self, on_ready: Callable[[str], None] = lambda address: None, open_browser: bool = False) -> None:
        on_ready(self.address)
        if open_browser:
            threading.Timer(0.5, webbrowser.open, (self.address,)).start()
        try:
            self.server.run(sockets=[self.socket])
        except KeyboardInterrupt:
            # Ctrl-C: uvicorn has already closed down, then raises the interrupt again for its
            # caller. Here it is the ordinary way to stop, not a command cut short.
            pass
        finally:
            self.socket.close()

    def cut_short(self) -> list[str]:
        """The work still under way (an apply, a cleanup), by title: stopped now (Ctrl-C; the Stop
        button waits for it), it ends part way, as a killed command does, and the next apply or
        cleanup finishes it."""
        return [task.title for task in self.app.app.state.tasks.running()]

    def start_in_thread(self) -> threading.Thread:
        """For the tests: run in a thread; ``stop`` ends it."""
        thread = threading.Thread(target=self.run, name="provisioner-web", daemon=True)
        thread.start()
        return thread
