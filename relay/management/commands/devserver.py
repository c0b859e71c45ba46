import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

WORKER_STOP_SECONDS = 10


class Command(BaseCommand):
    help = (
        "Run Switchboard locally in one go: migrate, load the demo data, set up the schedules, "
        "then the background worker and the web server together. Ctrl-C stops both."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, port: int, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("devserver is for local work: run it with DEBUG=true")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_demo")
        call_command("setup_schedules")
        manage = settings.BASE_DIR / "manage.py"
        worker = subprocess.Popen([sys.executable, str(manage), "worker"])  # noqa: S603
        # A plain `kill` must stop the worker too, not only Ctrl-C.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        base = f"http://127.0.0.1:{port}"
        self.stdout.write(
            self.style.SUCCESS("\nSwitchboard is running.\n")
            + f"  Inbox:           {base}/inbox/\n"
            f"  Phone simulator: {base}/simulator/\n"
            f"  Dashboard:       {base}/dashboard/\n"
            f"  Admin:           {base}/admin/\n"
            f"  API docs:        {base}/api/docs/\n"
            "  Demo logins:     admin / admin, supervisor / supervisor, agent / agent\n"
        )
        try:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            self._stop(worker)

    def _stop(self, worker: subprocess.Popen) -> None:
        if worker.poll() is not None:
            return
        worker.terminate()
        try:
            worker.wait(timeout=WORKER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
