"""The playground's web server: the page, its files, and one WebSocket per browser tab.

A tab opens ``/ws`` and says which session it had (kept in the tab's ``sessionStorage``,
so a reload reconnects to the running session) and which settings its address holds.
Every message from the page is checked: settings by the spec schema (`state.validate`),
actions by name; a bad one gets its message back and the server keeps running. The page
never names a file. Sessions whose page has been gone for ``linger`` seconds are stopped.

`serve` binds the socket itself (127.0.0.1 by default), so a busy port is reported before
anything starts, and stops cleanly on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import secrets
import socket
import sys
import threading
import time
import webbrowser
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from ..errors import UserError
from ..extras import install_hint
from . import address, frames, state
from .schema import check_message
from .session import Session

HINT = f"the playground needs starlette and uvicorn: {install_hint('playground')}"
MAX_MESSAGE = 64 * 1024  # characters of one message from the page (an upload's CSV included)
MAX_SESSIONS = 32
# the close frame's reason for a binary frame (code 1003: unsupported data)
BINARY = "the playground reads JSON text messages only; binary frames are not supported"
DEFAULT_PORT = 8765
LOOPBACK = ["127.0.0.1", "localhost", "::1", "[::1]"]


def _web() -> Any:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise UserError(HINT) from None


class Sessions:
    """The running sessions by id, and which are attached to a page."""

    def __init__(self, initial: dict[str, Any], notes: list[str], linger: float):
        self.initial, self.notes, self.linger = initial, notes, linger
        self.by_id: dict[str, Any] = {}
        self.pending: set[str] = set()  # ids whose session is being built: their slot is taken

    def claim(self, key: str) -> Any:
        """Take a slot for a new session under `key`, or refuse when every slot is taken.

        Runs without awaiting, so tabs opening at once cannot all pass the check before any
        is counted. When full, the session whose page has been gone longest gives up its
        slot (its linger only serves a reload, and a reload reconnects to its own slot);
        it is returned, for the caller to stop outside the event loop.
        """
        evicted = None
        if len(self.by_id) + len(self.pending) >= MAX_SESSIONS:
            gone = [(s.detached_since, k) for k, s in self.by_id.items() if s.detached_since]
            if not gone:
                raise UserError(f"at most {MAX_SESSIONS} playground tabs at once; close one")
            evicted = self.by_id.pop(min(gone)[1])
        self.pending.add(key)
        return evicted

    def reap(self) -> None:
        """Stop sessions whose page has been gone longer than `linger` seconds."""
        now = time.monotonic()
        for key, session in list(self.by_id.items()):
            if session.detached_since is not None and now - session.detached_since > self.linger:
                del self.by_id[key]
                session.stop()

    def stop_all(self) -> None:
        for session in self.by_id.values():
            session.stop()
        self.by_id.clear()


def create_app(
    initial: dict[str, Any] | None = None,
    notes: list[str] | None = None,
    linger: float = 30.0,
    spec: Any = None,
    allowed_hosts: list[str] | None = LOOPBACK,
) -> Any:
    """The starlette application; ``initial`` are the settings a page without any opens with,
    or ``spec`` a spec the plane cannot show (MNIST), trained as it is in the images view.
    Requests must name one of ``allowed_hosts`` (None: any), and a WebSocket must come from
    a page of this server (its Origin), so other web sites cannot drive a session."""
    _web()
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles
    from starlette.websockets import WebSocket, WebSocketDisconnect

    sessions = Sessions(initial or {}, notes or [], linger)
    sessions.spec = spec
    static = resources.files(__package__) / "static"

    async def index(request: Any) -> HTMLResponse:
        return HTMLResponse((static / "index.html").read_text(encoding="utf-8"))

    async def thumbnails(request: Any) -> JSONResponse:  # the data sets' pictures
        return JSONResponse(await run_in_threadpool(frames.thumbnails))

    async def connect(websocket: WebSocket) -> None:
        origin = websocket.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != websocket.headers.get("host"):
            await websocket.close(code=1008)  # another site's page may not drive a session
            return
        await websocket.accept()
        loop = asyncio.get_running_loop()
        outbox: asyncio.Queue[str] = asyncio.Queue()

        def send(text: str) -> None:  # called from training threads
            loop.call_soon_threadsafe(outbox.put_nowait, text)

        async def pump() -> None:
            while True:
                await websocket.send_text(await outbox.get())

        def reply(message: dict[str, Any]) -> None:
            outbox.put_nowait(json.dumps(message))

        async def start(
            key: str, settings: Any, notes: list[str], fallback: bool = False, refused: Any = ()
        ) -> Any:
            """A new session under `key` (replacing the old one), or None with the problems
            sent; with `fallback`, bad settings open the server's own instead (a link)."""
            try:
                if not isinstance(settings, dict):
                    raise UserError("settings: expected a mapping of playground settings")
                if "spec" in settings:  # the images view of the spec given on the command line
                    if sessions.spec is None or settings["spec"] != sessions.spec.name:
                        raise UserError("this server was not started with that spec")
                    spec = await run_in_threadpool(state.images_spec, sessions.spec, settings)
                    session = await run_in_threadpool(Session, None, send, spec)
                else:
                    session = await run_in_threadpool(Session, settings, send)
            except UserError as error:
                if fallback:  # the page still opens, and says why it did not open the link
                    texts = [p["text"] for p in state.problems_for_page(error)]
                    own = {"spec": sessions.spec.name} if sessions.spec else sessions.initial
                    note = "the address had settings that do not validate, so these opened"
                    return await start(key, own, [f"{note}: {'; '.join(texts)}"])
                reply({"type": "problems", "problems": state.problems_for_page(error)})
                return None
            old = sessions.by_id.get(key)
            sessions.by_id[key] = session
            if old is not None:
                await run_in_threadpool(old.stop)
            reply({**session.describe(), "id": key, "notes": notes, "refused": list(refused)})
            return session

        pumping = asyncio.create_task(pump())
        key, session = "", None
        try:
            while True:
                received = await websocket.receive()
                if received["type"] == "websocket.disconnect":
                    break
                if received.get("text") is None:  # a binary frame: not this page's language
                    await websocket.close(code=1003, reason=BINARY)
                    break
                try:
                    message = _parse(received["text"])
                    kind = message["type"]
                    if kind == "open":
                        was = (key, session)
                        key, session = await _open(message, sessions, start, send, reply)
                        if session is not None and was[0] != key:  # its old one: let it go
                            _detach(sessions, *was)
                    elif session is None:
                        raise UserError("open a session first")
                    elif kind == "reset":
                        session = await start(key, session.settings, []) or session
                    elif kind == "upload" and "spec" in session.settings:
                        raise UserError("the images view trains its spec's own data: no upload")
                    elif kind == "settings":
                        session = await start(key, message.get("settings"), []) or session
                    elif kind == "upload":  # CSV text -> the page's own points
                        try:
                            points = await run_in_threadpool(
                                state.points_from_csv,
                                message.get("text"),
                                message.get("name", ""),
                                session.settings,
                            )
                        except UserError as error:
                            reply({"type": "problems", "problems": [
                                {"text": str(error), "path": "", "control": "upload-csv"}
                            ]})  # fmt: skip
                            continue
                        settings = {**session.settings, "points": points}
                        session = await start(key, settings, []) or session
                    elif kind == "spec":
                        text, epochs = await run_in_threadpool(session.spec_text)
                        csv = session.points  # the page's own points go beside the spec
                        reply({"type": "spec", "yaml": text, "epochs": epochs, "csv": csv})
                    else:
                        session.control(kind, message.get("value"))
                except UserError as error:
                    reply({"type": "problems", "problems": state.problems_for_page(error)})
        except WebSocketDisconnect:
            pass
        finally:
            pumping.cancel()
            _detach(sessions, key, session)

    def _detach(sessions: Sessions, key: str, session: Any) -> None:
        """The page of this session is gone (or opened another): it lingers for a reload,
        and its slot goes to a new tab first when all are taken."""
        if session is not None and sessions.by_id.get(key) is session:
            session.detached_since = time.monotonic()
            session.control("pause")

    async def _open(message, sessions, start, send, reply):  # type: ignore[no-untyped-def]
        key = message.get("session")
        settings, refused = message.get("settings"), []
        if message.get("address") and sessions.spec is not None:  # the images view's link
            settings = address.images(message["address"], sessions.spec.name)
        elif message.get("address"):  # a link: each key kept unless it is refused, and why
            settings, refused = await run_in_threadpool(address.read, message["address"])
        existing = sessions.by_id.get(key) if key else None
        if existing is not None and (settings is None or _same(settings, existing.settings)):
            existing.send = send
            existing.detached_since = None
            reply({**existing.describe(), "id": key, "notes": []})
            existing.control("pause")
            return key, existing
        if existing is None:  # a new tab (a reconnecting one keeps its slot and its id)
            key = secrets.token_hex(8)
            evicted = sessions.claim(key)
            if evicted is not None:
                await run_in_threadpool(evicted.stop)
        try:
            if settings is None and sessions.spec is not None:
                return key, await start(key, {"spec": sessions.spec.name}, sessions.notes)
            if settings is None:
                return key, await start(key, sessions.initial, sessions.notes)
            return key, await start(key, settings, [], fallback=True, refused=refused)
        finally:
            sessions.pending.discard(key)

    def _same(settings: Any, current: dict[str, Any]) -> bool:
        try:
            if "spec" in settings or "spec" in current:  # a link may leave opt and lr out
                return all(current.get(k) == v for k, v in settings.items())
            return state.complete(settings) == current
        except Exception:
            return False

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> Any:
        async def reaper() -> None:
            while True:
                await asyncio.sleep(min(5.0, max(linger / 2, 0.05)))
                await run_in_threadpool(sessions.reap)  # stop() joins a thread: not in the loop

        task = asyncio.create_task(reaper())
        try:
            yield
        finally:
            task.cancel()
            await run_in_threadpool(sessions.stop_all)

    middleware = []
    if allowed_hosts is not None:  # DNS rebinding: a page of another name reaching 127.0.0.1
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts))
    app = Starlette(
        middleware=middleware,
        routes=[
            Route("/", index),
            Route("/thumbnails.json", thumbnails),
            WebSocketRoute("/ws", connect),
            Mount("/static", StaticFiles(directory=str(static)), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.sessions = sessions
    return app


def one_blas_thread() -> Any:
    """A context in which NumPy's BLAS uses one thread (threadpoolctl), for the whole process.

    The playground's matrices are tiny: more BLAS threads only spin and take the cores
    from the training thread and the browser (on 2 busy cores, 4x fewer steps a second).
    Without threadpoolctl nothing changes.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


SWITCH_INTERVAL = 0.0005  # seconds: how soon the training thread hands Python to the server


@contextlib.contextmanager
def serving() -> Any:
    """One BLAS thread (`one_blas_thread`) and a short thread switch interval while serving.

    The training thread keeps Python busy; the web server's thread waits for it at each
    of the many small steps of receiving "ready" and sending a frame. At Python's default
    5 ms a switch, a big network's frame took half a second to reach the page; at 0.5 ms
    the page gets 10 or more a second while training goes on.
    """
    previous = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        with one_blas_thread():
            yield
    finally:
        sys.setswitchinterval(previous)


def _parse(text: str) -> dict[str, Any]:
    if len(text) > MAX_MESSAGE:
        raise UserError(f"message too large: {len(text):,} bytes, at most {MAX_MESSAGE:,}")
    try:
        message = json.loads(text)
    except json.JSONDecodeError as error:
        raise UserError(f"the page sent something that is not JSON ({error.msg})") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise UserError('each message is a JSON object with a "type"')
    check_message(message)
    return message


def bind(host: str, port: int | None) -> socket.socket:
    """A listening socket on host:port; the default port moves on to the next free one."""
    if port is not None and not 0 <= port <= 65535:
        raise UserError(f"--port {port}: a port is 0 to 65535 (0: any free port)")
    candidates = [port] if port is not None else range(DEFAULT_PORT, DEFAULT_PORT + 20)
    for candidate in candidates:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        try:
            sock.bind((host, candidate))
        except OSError as error:
            sock.close()
            busy = error.errno == errno.EADDRINUSE
            if busy and port is None and candidate != candidates[-1]:
                print(f"port {candidate} is in use; trying {candidate + 1}", file=sys.stderr)
                continue
            fix = (
                "it is in use (another playground or program?); choose another port with "
                "--port, or --port 0 for any free one"
                if busy
                else "check --host: 127.0.0.1 keeps it to this machine, 0.0.0.0 opens it to "
                "the network"
            )
            raise UserError(
                f"cannot listen on {host}:{candidate}: {error.strerror or error}; {fix}"
            ) from None
        sock.listen(128)
        return sock
    raise AssertionError("unreachable")


def serve(
    initial: dict[str, Any] | None = None,
    notes: list[str] | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    open_browser: bool = True,
    spec: Any = None,
) -> int:
    """Run the playground until Ctrl-C; returns the exit code (0)."""
    _web()
    import uvicorn

    if host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: listening on {host}: anyone who can reach this machine on the network "
            "can open the playground and use its CPU; use the default --host 127.0.0.1 to "
            "keep it to this machine",
            file=sys.stderr,
        )
    sock = bind(host, port)
    bound_port = sock.getsockname()[1]
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{bound_port}/"
    hosts = LOOPBACK if host in LOOPBACK else None  # --host 0.0.0.0: any name reaches it
    app = create_app(initial, notes, spec=spec, allowed_hosts=hosts)
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    try:  # Ctrl-C at any moment from here on stops cleanly
        print(f"playground: {url}  (Ctrl-C stops it)", flush=True)
        if open_browser:
            threading.Timer(0.5, webbrowser.open, args=(url,)).start()
        with serving():
            server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled
        pass
    finally:
        sock.close()
    print("playground stopped", file=sys.stderr)
    return 0


class ServerThread:
    """The playground served from a background thread (tests, screenshots, benchmarks).

    ``with ServerThread() as url:`` serves on a free port of 127.0.0.1 and stops on exit.
    """

    def __init__(self, **options: Any):
        _web()
        import uvicorn

        self.sock = bind("127.0.0.1", 0)
        self.app = create_app(**options)
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"

    def __enter__(self) -> str:
        self.blas = serving()
        self.blas.__enter__()
        self.thread.start()
        return self.url

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
        self.blas.__exit__(None, None, None)
