"""What the side-by-side benchmarks share: a fresh PostgreSQL database, servers started and
stopped as processes, an open-loop load generator, a fake Graph API, and figures printed
plainly."""

import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
APP_SECRET = "bench-app-secret"
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database(admin_url: str, name: str) -> str:
    """Drop and create `name` on the server of `admin_url`; its URL."""
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def switchboard_env(database_url: str, **extra: str) -> dict:
    """A production-like environment: PostgreSQL, the WhatsApp provider, no DEBUG."""
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "FIELD_ENCRYPTION_KEY": "YmVuY2gta2V5LWJlbmNoLWtleS1iZW5jaC1rZXktYmU=",
        "RELAY_PROVIDER": "whatsapp",
        "WHATSAPP_ACCESS_TOKEN": "bench-token",
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": "bench-verify",
        "WHATSAPP_BUSINESS_ACCOUNT_ID": "1",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


@contextlib.contextmanager
def process(args: list[str], *, env: dict | None = None, port: int | None = None, quiet=True):
    """Run `args` until the block ends; wait for `port` to answer first."""
    output = subprocess.DEVNULL if quiet else None
    child = subprocess.Popen(  # noqa: S603
        args, cwd=ROOT, env=env, stdout=output, stderr=output, start_new_session=True
    )
    try:
        if port is not None:
            wait_for_port(port, child)
        yield child
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def wait_for_port(port: int, child: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"{child.args} exited with {child.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing answered on port {port}")


def gunicorn(app: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]


def manage(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), *args]


@dataclass
class Latencies:
    """Seconds from when each request was due (open loop) to its answer."""

    seconds: list[float]
    errors: int
    elapsed: float

    def percentile(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    def summary(self) -> str:
        if not self.seconds:
            return f"no answers, {self.errors} errors"
        over = sum(s > 1 for s in self.seconds) / len(self.seconds)
        return (
            f"{len(self.seconds) / self.elapsed:.0f} answered/s, "
            f"p50 {statistics.median(self.seconds) * 1000:.1f} ms, "
            f"p99 {self.percentile(0.99) * 1000:.1f} ms, {over:.1%} over 1 s, "
            f"{self.errors} errors"
        )


def open_loop(port: int, path: str, requests: list[bytes], rate: float) -> Latencies:
    """Send `requests` (raw HTTP/1.1, keep-alive) at `rate` per second whatever the server's
    pace: a slow answer never delays the next request (no coordinated omission)."""
    return asyncio.run(_open_loop(port, requests, rate))


async def _open_loop(port: int, requests: list[bytes], rate: float) -> Latencies:
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()

    async def one(request: bytes, due: float) -> None:
        nonlocal errors
        try:
            reader, writer = (
                idle.pop() if idle else await asyncio.open_connection("127.0.0.1", port)
            )
            writer.write(request)
            status, keep_alive = await _read_response(reader)
            latencies.append(time.perf_counter() - due)
            if status >= 400:
                errors += 1
            if keep_alive:
                idle.append((reader, writer))
            else:  # gunicorn's sync workers close after each answer
                writer.close()
        except (OSError, asyncio.IncompleteReadError):
            errors += 1

    tasks = []
    for index, request in enumerate(requests):
        due = start + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(request, due)))
    await asyncio.gather(*tasks)
    for _, writer in idle:
        writer.close()
    return Latencies(latencies, errors, time.perf_counter() - start)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length, keep_alive = 0, True
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
        elif line.startswith(b"connection:") and b"close" in line:
            keep_alive = False
    await reader.readexactly(length)
    return status, keep_alive


def http_post(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def sessions_with_partners(count: int) -> list[tuple[str, str]]:
    """A pool of ten numbers and `count` sessions, each with a partner of its own, both
    windows open (Django set up): each session's customer phone and the proxy number id
    they write to."""
    from django.utils import timezone

    from relay.models import Leg, MaskingPool, ProxyNumber
    from relay.services.sessions import PartyInput, session_open
    from routing.services.partners import PartnerContactInput, partner_create

    pool = MaskingPool.objects.create(name="bench")
    for n in range(10):
        ProxyNumber.objects.create(
            pool=pool, e164=f"+1555000{1001 + n}", phone_number_id=str(1001 + n)
        )
    customers = []
    for n in range(count):
        partner = partner_create(
            code=f"loc-{n}",
            name=f"Hub {n}",
            kind="location",
            contacts=[PartnerContactInput(name="Manager", phone=f"+4477009{n:05d}")],
        )
        phone = f"+1415555{n:04d}"
        session = session_open(
            external_ref=f"BK-{n}",
            workflow="booking",
            customer=PartyInput(name=f"Customer {n}", phone=phone),
            partner=partner,
            pool=pool,
        )
        for participant in session.participants.select_related("contact", "proxy_number"):
            Leg.objects.update_or_create(
                contact=participant.contact,
                proxy_number=participant.proxy_number,
                defaults={"last_inbound_at": timezone.now()},
            )
            if participant.role == "customer":
                customers.append((phone, participant.proxy_number.phone_number_id))
    return customers


class FakeGraph:
    """Meta's Graph API on loopback, answering every send at once; records what it got."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: list[tuple[float, str]] = []
        self._ids = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", self.port)
        )
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _connection(self, reader, writer) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.lower().split(b"\r\n"):
                    if line.startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                self._answer(writer, body)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def _answer(self, writer, body: bytes) -> None:
        self._ids += 1
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            payload = {}
        if payload.get("type") == "text":
            self.received.append((time.perf_counter(), payload["text"]["body"]))
        answer = json.dumps({"messages": [{"id": f"wamid.fake.{self._ids}"}]}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(answer)}\r\n\r\n".encode()
            + answer
        )
