from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django_q.models import Schedule

from relay.management.commands import devserver
from relay.models import Contact, MaskingPool, MessageTemplate, ProxyNumber, RelaySession
from routing.models import Partner, PartnerContact, Reference, Rule, Workflow
from sla.models import RoiSettings, SlaPolicy


def run(name: str, *args) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def test_load_demo_twice_creates_one_of_each_thing(settings, db):
    settings.DEBUG = True
    settings.RELAY_PROVIDER = "console"

    run("load_demo")
    run("load_demo")

    users = get_user_model().objects.order_by("username")
    assert [u.username for u in users] == ["admin", "agent", "supervisor"]
    admin, agent, supervisor = users
    assert admin.is_superuser and admin.check_password("admin")
    assert agent.check_password("agent") and not agent.is_superuser
    assert not agent.agent.supervisor and supervisor.agent.supervisor
    assert {t.slug for t in agent.agent.teams.all()} == {"desk"}
    invitations = MessageTemplate.objects.filter(name="relay_invite", status="APPROVED")
    assert {"en_US", "es", "fr"} <= set(invitations.values_list("language", flat=True))
    openings = {w.partner_opening for w in Workflow.objects.all()} - {""}
    assert MessageTemplate.objects.count() == invitations.count() + len(openings)
    pool = MaskingPool.objects.get(name="default")
    assert (pool.notice_template.name, pool.notice_template.language) == ("relay_invite", "en_US")
    assert pool.notice_template.parameter_count == 1
    assert sorted(pool.numbers.values_list("e164", "phone_number_id", "kind")) == [
        ("+15550001001", "1001", "relay"),
        ("+15550001002", "1002", "relay"),
        ("+15550002000", "2000", "intake"),
    ]
    assert ProxyNumber.objects.count() == 3
    assert set(Partner.objects.values_list("code", flat=True)) == {
        "loc-a",
        "factory-a",
        "workshop-platinum",
        "little-steps",
    }
    partner = Partner.objects.get(code="loc-a")
    assert (partner.name, partner.kind) == ("Downtown Hub", "location")
    ana = PartnerContact.objects.get(partner=partner)
    assert (ana.name, ana.role, ana.contact.phone) == ("Ana", "manager", "+447700900123")
    assert Contact.objects.count() == 8  # 4 customers, 4 partner contacts
    assert Rule.objects.count() == 2 and Reference.objects.get().partner.code == "factory-a"
    # One live session of each workflow, all in the desk team's inbox.
    sessions = {s.workflow: s for s in RelaySession.objects.select_related("team", "partner")}
    assert sorted(sessions) == [
        "bespoke-inquiry", "booking", "childcare-interview", "export-feedback"
    ]  # fmt: skip
    assert all(s.is_live() and s.team.slug == "desk" for s in sessions.values())
    assert sessions["export-feedback"].external_ref == "PO1234"
    assert sessions["export-feedback"].partner.code == "factory-a"
    inquiry = sessions["bespoke-inquiry"]
    assert (inquiry.mode, inquiry.partner.code) == ("mediated", "workshop-platinum")
    assert inquiry.quotes.get().status == "pending"  # the workshop quoted: a margin to add
    assert inquiry.messages.filter(status="awaiting_agent").count() == 1
    assert sessions["childcare-interview"].slots.count() == 2
    session = sessions["booking"]
    assert (session.external_ref, session.mode) == ("BK-1001", "direct")
    customer = session.participants.get(role="customer")
    assert (customer.name, customer.contact.phone) == ("Sam", "+14155550123")
    policies = SlaPolicy.objects.order_by("workflow")
    assert [p.workflow for p in policies] == [
        "bespoke-inquiry",
        "booking",
        "childcare-interview",
        "export-feedback",
    ]
    assert policies.get(workflow="booking").current.targets == {
        "partner_ack": 3600,
        "confirmation": 1800,
    }
    assert policies.get(workflow="export-feedback").calendar.hours.count() == 12
    assert RoiSettings.objects.count() == 4


def test_load_demo_refuses_without_debug(settings, db):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        run("load_demo")

    assert not get_user_model().objects.exists()


def test_setup_schedules_twice_leaves_one_schedule(db):
    run("setup_schedules")
    run("setup_schedules")

    schedules = {s.name: (s.func, s.schedule_type, s.minutes) for s in Schedule.objects.all()}
    assert schedules == {
        "relay.sweep": ("relay.tasks.sweep", Schedule.MINUTES, 1),
        "relay.sync_templates": ("relay.tasks.sync_templates", Schedule.MINUTES, 24 * 60),
        "sla.clocks": ("sla.tasks.clocks_run", Schedule.MINUTES, 1),
    }


def test_setup_schedules_repairs_an_edited_schedule(db):
    Schedule.objects.create(name="relay.sweep", func="relay.tasks.sweep", schedule_type="D")
    Schedule.objects.create(name="relay.sweep", func="relay.tasks.sweep", schedule_type="D")

    run("setup_schedules")

    schedule = Schedule.objects.get(name="relay.sweep")
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 1)


def test_devserver_refuses_without_debug(settings, db):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        run("devserver")


class FakeWorker:
    def __init__(self, args) -> None:
        self.args, self.stopped = args, False

    def poll(self):
        return 0 if self.stopped else None

    def terminate(self) -> None:
        self.stopped = True

    def wait(self, timeout=None) -> int:
        return 0


def test_devserver_sets_up_then_stops_the_worker_when_the_server_stops(settings, db, monkeypatch):
    settings.DEBUG = True
    workers, commands = [], []

    def fake_call_command(name, *args, **kwargs):
        commands.append((name, *args))
        if name == "runserver":
            raise KeyboardInterrupt  # the developer pressed Ctrl-C

    def start(args):
        workers.append(FakeWorker(args))
        return workers[-1]

    monkeypatch.setattr(devserver, "call_command", fake_call_command)
    monkeypatch.setattr(devserver.subprocess, "Popen", start)
    monkeypatch.setattr(devserver.signal, "signal", lambda *args: None)
    out = StringIO()

    with pytest.raises(KeyboardInterrupt):
        call_command("devserver", "--port", "8765", stdout=out)

    assert commands == [
        ("migrate",),
        ("load_demo",),
        ("setup_schedules",),
        ("runserver", "127.0.0.1:8765"),
    ]
    assert workers[0].args[-1] == "worker" and workers[0].stopped
    assert "http://127.0.0.1:8765/simulator/" in out.getvalue()
    assert "admin / admin" in out.getvalue()


def test_worker_runs_its_loops_and_the_schedules_restarts_what_dies_and_stops_them(
    settings, db, monkeypatch
):
    from relay.management.commands import worker

    settings.RELAY_WORKERS = 3
    handlers, children = {}, []

    class Child(FakeWorker):
        def __init__(self, args) -> None:
            super().__init__(args)
            children.append(self)

        def poll(self):
            if self.args[-1] == "qcluster" and len(children) == 5:
                return 1  # the first cluster dies
            if len(children) == 6:
                handlers[worker.signal.SIGTERM]()  # then the machine is told to stop
            return super().poll()

    monkeypatch.setattr(worker.connection, "vendor", "postgresql")
    monkeypatch.setattr(worker.subprocess, "Popen", Child)
    monkeypatch.setattr(
        worker.signal, "signal", lambda signum, handler: handlers.update({signum: handler})
    )
    monkeypatch.setattr(worker.time, "sleep", lambda seconds: None)

    run("worker")

    commands = [child.args[2:] for child in children]
    assert commands == [["worker", "--loop"]] * 3 + [
        ["worker", "--deliveries"],
        ["qcluster"],
        ["qcluster"],
    ]
    assert all(child.stopped for child in children[:4] + children[5:])
