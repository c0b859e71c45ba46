from django.dispatch import Signal

# Sent once the transaction that recorded `event` (a TimelineEvent) has committed; never for
# a change that rolled back. Other apps (SLA clocks, KPIs, CRM sync) connect receivers to it.
timeline_event_committed = Signal()

# Sent inside the transaction that recorded `events` (TimelineEvents, saved): a receiver's
# writes commit or roll back with the change (the CRM outbox). It must be quick.
timeline_events_recorded = Signal()
