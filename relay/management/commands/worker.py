import signal
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from crm_sync.delivery import deliveries_run
from relay import worker

RESTART_AFTER_SECONDS = 2
STOP_SECONDS = 10


class Command(BaseCommand):
    help = (
        "Run all the background work of this machine: RELAY_WORKERS loops that claim due "
        "webhooks and outbound messages, a process that sends CRM events, and django-q2's "
        "cluster for the schedules. A part "
        "that dies is started again; Ctrl-C or SIGTERM stops them all."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loops", type=int, help="relay loops (default RELAY_WORKERS)")
        parser.add_argument("--loop", action="store_true", help="run one loop in this process")
        parser.add_argument(
            "--deliveries", action="store_true", help="send CRM events in this process"
        )

    def handle(self, *args, loops: int | None, loop: bool, deliveries: bool, **options) -> None:
        if loop or deliveries:
            self._run_one_loop(deliveries=deliveries)
            return
        if connection.vendor == "sqlite":
            loops = 1  # one writer at a time: a second loop would only wait for the first
        self._supervise(loops or settings.RELAY_WORKERS)

    def _run_one_loop(self, *, deliveries: bool) -> None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        if deliveries:
            # One sender on SQLite: it takes one writer at a time.
            senders = 1 if connection.vendor == "sqlite" else settings.CRM_SENDERS
            deliveries_run(stop, senders=senders)
        else:
            worker.run(stop)

    def _supervise(self, loops: int) -> None:
        manage = str(settings.BASE_DIR / "manage.py")
        commands = [[sys.executable, manage, "worker", "--loop"]] * loops
        # CRM deliveries in a process of their own: a slow CRM never holds up the relay.
        commands.append([sys.executable, manage, "worker", "--deliveries"])
        commands.append([sys.executable, manage, "qcluster"])
        stopping = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.set())
        children = [subprocess.Popen(command) for command in commands]  # noqa: S603
        self.stdout.write(f"Worker: {loops} relay loop(s) and the schedules are running.")
        try:
            while not stopping.is_set():
                for index, child in enumerate(children):
                    if child.poll() is not None:
                        self.stderr.write(f"{' '.join(commands[index][2:])} stopped; restarting")
                        time.sleep(RESTART_AFTER_SECONDS)
                        children[index] = subprocess.Popen(commands[index])  # noqa: S603
                stopping.wait(1)
        finally:
            _stop(children)


def _stop(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for child in children:
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
