"""Typed SQLAlchemy models: columns and relationships, no business rules."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    DDL,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.services.rules import Kind, State


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC; always hands back aware UTC, on SQLite and PostgreSQL alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


# --- reference data --------------------------------------------------------


class Hardware(db.Model):
    __tablename__ = "hardware"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    vendor: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))  # gpu | unified | cpu | other
    memory_gib: Mapped[float | None] = mapped_column(Float)
    bandwidth_gb_s: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(String(200), default="")

    @property
    def is_other(self) -> bool:
        return self.kind == "other"


class ModelVariant(db.Model):
    __tablename__ = "model_variants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    family: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(120))
    variant: Mapped[str] = mapped_column(String(20))  # instruct | base | other
    params_b: Mapped[float | None] = mapped_column(Float)
    active_params_b: Mapped[float | None] = mapped_column(Float)

    @property
    def is_other(self) -> bool:
        return self.variant == "other"


class Quant(db.Model):
    __tablename__ = "quants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    family: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(60))
    bits_per_weight: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(200), default="")

    @property
    def is_other(self) -> bool:
        return self.family == "other"

    @property
    def label(self) -> str:
        # "FP16", "BF16", "FP8 (E4M3)" already name their family; "GGUF Q4_K_M" does not.
        if self.is_other or self.name.startswith(self.family):
            return self.name
        return f"{self.family} {self.name}"


class Runtime(db.Model):
    __tablename__ = "runtimes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    engine_family: Mapped[str] = mapped_column(String(40))
    version_example: Mapped[str] = mapped_column(String(40), default="")

    @property
    def is_other(self) -> bool:
        return self.engine_family == "other"


# --- submissions -----------------------------------------------------------


# The catalog's reference filters, held by its sort and filter indexes.
FILTER_IDS = ("model_id", "hardware_id", "quant_id", "runtime_id")


class Submission(db.Model):
    """A fresh or editorial benchmark row, or a reproduction attached to a hub.

    Public catalog rows are the ones in state approved-public; a reproduction in
    state reproduced is evidence on its hub, not a row of its own.
    """

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default=Kind.FRESH)
    state: Mapped[str] = mapped_column(String(20), default=State.QUEUED)
    # For a reproduction: the hub it reproduces. A fragmented reproduction keeps
    # this link and becomes a row of its own, shown as related to the hub.
    hub_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))

    # matching set
    model_id: Mapped[int] = mapped_column(ForeignKey("model_variants.id"))
    hardware_id: Mapped[int] = mapped_column(ForeignKey("hardware.id"))
    hardware_count: Mapped[int] = mapped_column(Integer, default=1)
    quant_id: Mapped[int] = mapped_column(ForeignKey("quants.id"))
    runtime_id: Mapped[int] = mapped_column(ForeignKey("runtimes.id"))
    # free text when a pick-list entry is "other"; reviewers see it
    other_model: Mapped[str | None] = mapped_column(String(120))
    other_hardware: Mapped[str | None] = mapped_column(String(120))
    other_quant: Mapped[str | None] = mapped_column(String(60))
    other_runtime: Mapped[str | None] = mapped_column(String(80))
    cpu_family: Mapped[str | None] = mapped_column(String(80))

    # build context
    runtime_version: Mapped[str | None] = mapped_column(String(60))
    driver_version: Mapped[str | None] = mapped_column(String(120))
    os_label: Mapped[str | None] = mapped_column(String(80))
    concurrent_users: Mapped[int] = mapped_column(Integer, default=1)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    max_tokens: Mapped[int | None] = mapped_column(Integer)
    seed: Mapped[int | None] = mapped_column(BigInteger)
    quant_provider: Mapped[str | None] = mapped_column(String(80))
    model_sha256_prefix: Mapped[str | None] = mapped_column(String(64))
    speculative: Mapped[bool] = mapped_column(Boolean, default=False)
    batch_gt1: Mapped[bool] = mapped_column(Boolean, default=False)
    tensor_parallel: Mapped[bool] = mapped_column(Boolean, default=False)

    # headline numbers: medians of the runs, kept for sorting and filtering
    ttft_ms: Mapped[float] = mapped_column(Float)
    decode_tps: Mapped[float] = mapped_column(Float)
    tokens_generated: Mapped[int] = mapped_column(Integer)
    ttft_spread: Mapped[float] = mapped_column(Float, default=0.0)
    decode_spread: Mapped[float] = mapped_column(Float, default=0.0)
    vram_peak_mib: Mapped[float] = mapped_column(Float)
    prefill_tps: Mapped[float | None] = mapped_column(Float)

    notes: Mapped[str] = mapped_column(Text, default="")
    handle: Mapped[str | None] = mapped_column(String(40))
    url: Mapped[str | None] = mapped_column(String(300))
    # Operator identity: the normalised handle, or "anon:<n>"; a reviewer may link.
    operator_key: Mapped[str] = mapped_column(String(80))
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    ip_day: Mapped[date | None] = mapped_column(Date)

    # divergence from the hub at submission time (reproductions only)
    worst_divergence: Mapped[float | None] = mapped_column(Float)
    band: Mapped[str | None] = mapped_column(String(20))

    status_nonce: Mapped[str] = mapped_column(String(43), unique=True)
    rejection_reason: Mapped[str | None] = mapped_column(String(160))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    measured_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # How the numbers got there (SPEC §11): None for typed by hand, else the format
    # of the file they were taken from (e.g. "trustbench-result", "llama-bench-json"),
    # its tool version and the file's sha256. Information, never a badge.
    source_format: Mapped[str | None] = mapped_column(String(40))
    source_version: Mapped[str | None] = mapped_column(String(60))
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    # What the import found wrong with the file (services.provenance.DOUBTS codes, comma
    # separated), shown beside the provenance; None when nothing was.
    source_doubts: Mapped[str | None] = mapped_column(String(200))

    # Derived index for catalog filters and sorts over many rows. Recomputed from
    # the evidence (services.evidence.refresh_derived) whenever a decision touches
    # the row; pages always show the badge and tier recomputed at render time.
    # The tier moves with time alone at two moments: an editorial row's lift ends
    # (derived_lift_until), and the row turns 12 months old (derived_newest_at), so
    # the index keeps the tier before, between and after them.
    derived_badge: Mapped[str | None] = mapped_column(String(30))
    derived_tier: Mapped[str | None] = mapped_column(String(12))  # while under 12 months
    derived_tier_lifted_off: Mapped[str | None] = mapped_column(String(12))  # lift over
    derived_lift_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    derived_tier_aged: Mapped[str | None] = mapped_column(String(12))  # after 12 months
    derived_newest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    derived_repro_count: Mapped[int] = mapped_column(Integer, default=0)
    # Catalog sorts: decode speed over the bandwidth ceiling (0 when no ceiling is known),
    # and trust: Badge.rank * 4 + the tier's rank before time lowers it (the sort breaks
    # ties by derived_newest_at, which puts aged rows after the rest of their rank).
    derived_ceiling_share: Mapped[float | None] = mapped_column(Float, default=0.0)
    derived_trust_rank: Mapped[int | None] = mapped_column(Integer, default=0)

    model: Mapped[ModelVariant] = relationship(lazy="joined", innerjoin=True)
    hardware: Mapped[Hardware] = relationship(lazy="joined", innerjoin=True)
    quant: Mapped[Quant] = relationship(lazy="joined", innerjoin=True)
    runtime: Mapped[Runtime] = relationship(lazy="joined", innerjoin=True)
    hub: Mapped[Submission | None] = relationship(
        remote_side="Submission.id", back_populates="reproductions"
    )
    reproductions: Mapped[list[Submission]] = relationship(
        back_populates="hub", order_by="Submission.created_at"
    )
    runs: Mapped[list[RunSample]] = relationship(
        back_populates="submission",
        order_by="RunSample.position",
        cascade="all, delete-orphan",
    )
    audit_events: Mapped[list[AuditEvent]] = relationship(
        back_populates="submission", order_by="AuditEvent.id"
    )
    feedback: Mapped[list[FeedbackNote]] = relationship(
        back_populates="submission", order_by="FeedbackNote.created_at"
    )

    __table_args__ = (
        # The sorts, covering the catalog's id query (sort, tie-break, stale test, the
        # four reference filters), so that a deep page's OFFSET skips index entries and
        # a filtered page walking the sort's order (services.narrowing) tests each entry
        # without reading its row.
        Index("ix_submissions_state_decode", "state", "decode_tps", "id", "derived_newest_at",
              *FILTER_IDS),
        Index("ix_submissions_state_ttft", "state", "ttft_ms", "id", "derived_newest_at",
              *FILTER_IDS),
        Index("ix_submissions_state_created", "state", "created_at", "id", "derived_newest_at",
              *FILTER_IDS),
        # One per reference filter, in decode order: a filtered count, a filter's deep page
        # and the other filters' tests read the index alone.
        *(Index(f"ix_submissions_state_{name.removesuffix('_id')}", "state", name,
                "decode_tps", "id", "derived_newest_at",
                *(other for other in FILTER_IDS if other != name))
          for name in FILTER_IDS),
        # The badge filter's, in decode order like the reference filters': its count and
        # a deep page's step-over read the index alone.
        Index("ix_submissions_state_badge", "state", "derived_badge", "decode_tps", "id",
              "derived_newest_at", *FILTER_IDS),
        # The stale edge, with the badge and every column the tier filter reads
        # (listing.effective_tier picks one of three tiers by the newest measurement and
        # the lift's end): a tier's count reads the index alone, and so does a badge's
        # where SQLite walks the stale edge rather than the badge. The tier filter is that
        # pick, never derived_tier alone, so no index leads with a tier.
        Index("ix_submissions_state_newest", "state", "derived_newest_at", "derived_badge",
              "derived_lift_until", "derived_tier", "derived_tier_aged",
              "derived_tier_lifted_off"),
        Index("ix_submissions_hub_state", "hub_id", "state"),
        Index("ix_submissions_operator", "operator_key"),
        Index("ix_submissions_ip", "ip_day", "ip_hash"),
        Index("ix_submissions_queue", "state", "kind", "created_at"),
        # The operators page: clean reproductions grouped by operator, read from the
        # index alone; and "is this hub public?" answered without reading the row.
        Index("ix_submissions_operator_repros", "kind", "state", "operator_key", "hub_id",
              "handle", "is_demo"),
        Index("ix_submissions_id_state", "id", "state"),
        # The Atom feed: the newest rows to become public, read from the index's end.
        Index("ix_submissions_state_decided", "state", "decided_at", "id"),
        # The catalog's share-of-ceiling and trust sorts (services.sorting.order).
        Index("ix_submissions_state_share", "state", "derived_ceiling_share", "id",
              "derived_newest_at", *FILTER_IDS),
        Index("ix_submissions_state_trust", "state", "derived_trust_rank", "derived_newest_at",
              "id", *FILTER_IDS),
        Index("ix_submissions_state_vram", "state", "vram_peak_mib", "id", "derived_newest_at",
              *FILTER_IDS),
        # The hardware and model charts read these columns of every public row of one
        # entry (services.reference_pages): from the index alone, not scattered rows.
        Index("ix_submissions_hardware_chart", "state", "hardware_id", "model_id", "quant_id",
              "hardware_count", "tensor_parallel", "derived_badge", "kind", "decode_tps"),
        Index("ix_submissions_model_chart", "state", "model_id", "hardware_id",
              "hardware_count", "tensor_parallel", "quant_id", "decode_tps"),
    )

    @property
    def run_count(self) -> int:
        return len(self.runs)

    def __repr__(self) -> str:
        return f"<Submission {self.id} {self.kind} {self.state}>"


class RunSample(db.Model):
    __tablename__ = "run_samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    ttft_ms: Mapped[float] = mapped_column(Float)
    tokens_generated: Mapped[int] = mapped_column(Integer)
    decode_tps: Mapped[float] = mapped_column(Float)

    submission: Mapped[Submission] = relationship(back_populates="runs")


class AuditEvent(db.Model):
    """One state transition. Append-only: the ORM refuses updates and deletes, and
    database triggers (see the migration) refuse them below the ORM too."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    actor: Mapped[str] = mapped_column(String(80))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="audit_events")


class BadgeChange(db.Model):
    """A public row's badge moved (up or down) when its evidence was recomputed, for the
    Atom feed. Rows becoming public are read from Submission.decided_at, not from here."""

    __tablename__ = "badge_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    old_badge: Mapped[str] = mapped_column(String(30))
    new_badge: Mapped[str] = mapped_column(String(30))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    submission: Mapped[Submission] = relationship()


class FeedbackNote(db.Model):
    __tablename__ = "feedback_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text)
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    resolution_note: Mapped[str | None] = mapped_column(String(500))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("reviewers.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="feedback")
    resolved_by: Mapped[Reviewer | None] = relationship()


# --- reviewers and abuse controls -------------------------------------------


class Reviewer(db.Model):
    __tablename__ = "reviewers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Rotated at every login and logout: a session cookie carries it, so a cookie
    # saved before logout no longer matches.
    session_token: Mapped[str] = mapped_column(String(43))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"


class DailyKey(db.Model):
    """The random HMAC key for one UTC day; deleted after 48 hours."""

    __tablename__ = "daily_keys"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RateCounter(db.Model):
    """Hits of one slot (a fifteenth of the limit's window; `window_start` is the slot's
    start) per bucket (action + IP hash), shared by every worker; the limit counts the
    slots that cover the last window (services/privacy)."""

    __tablename__ = "rate_counters"

    bucket: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class OperatorSummary(db.Model):
    """One operator with a handle, as the operators page lists them: what they cleanly
    reproduced on public rows. Kept by services.summaries whenever a decision changes it
    (so the page reads a page of these, never every reproduction); `flask refresh`
    rebuilds it. An operator with nothing to list has no row."""

    __tablename__ = "operator_summaries"

    operator_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    handle: Mapped[str] = mapped_column(String(40))  # the first of their handles, as typed
    reproductions: Mapped[int] = mapped_column(Integer)
    hubs: Mapped[int] = mapped_column(Integer)  # distinct public rows reproduced
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # The newest public rows reproduced (highest ids first), comma-separated, at most
    # summaries.LATEST_HUBS of them.
    latest_hub_ids: Mapped[str] = mapped_column(String(120), default="")


# The operators page's order, so a page is read from the index's start.
Index("ix_operator_summaries_rank", OperatorSummary.hubs.desc(), OperatorSummary.handle,
      OperatorSummary.operator_key)


class PublicRowCount(db.Model):
    """How many public rows one hardware entry or model has (the /hardware and /models
    index pages), kept by services.summaries with every decision; `flask refresh` rebuilds
    it. An entry without a row here has none."""

    __tablename__ = "public_row_counts"

    subject: Mapped[str] = mapped_column(String(16), primary_key=True)  # hardware | model
    reference_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    demo_rows: Mapped[int] = mapped_column(Integer, default=0)


class ChartSummary(db.Model):
    """What the hardware page's scatter or a model page's bars draw, aggregated from the
    entry's public rows (services.chart_summaries): the scatter's dots already merged per
    spot with the scale they were merged under and its configurations table, or one bar
    per hardware and device count. Kept whenever a commit changes a public row of the
    entry, so a page reads one row however many it has; `flask refresh` rebuilds it. An
    entry without a row here has no public rows."""

    __tablename__ = "chart_summaries"

    subject: Mapped[str] = mapped_column(String(16), primary_key=True)  # hardware | model
    reference_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[str] = mapped_column(Text, default="{}")  # JSON, chart_summaries' shape


class SiteState(db.Model):
    """One row: the version of everything public pages show.

    services.data_version bumps it after every commit that changed public data, so each
    worker knows, with one indexed read, whether a page it rendered earlier still holds.
    """

    __tablename__ = "site_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data_version: Mapped[int] = mapped_column(BigInteger, default=0)


class AuditEventImmutable(RuntimeError):
    pass


@event.listens_for(AuditEvent, "before_update")
def _refuse_audit_update(_mapper, _connection, target):
    raise AuditEventImmutable(f"audit event {target.id} cannot be updated")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_audit_delete(_mapper, _connection, target):
    raise AuditEventImmutable(f"audit event {target.id} cannot be deleted")


# Below the ORM, the database itself refuses to change an audit event. The initial
# migration runs the same statements; create_all (tests) gets them via DDL events.
AUDIT_TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$",
        "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    ],
}

for _dialect, _statements in AUDIT_TRIGGERS.items():
    for _statement in _statements:
        event.listen(
            AuditEvent.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect)
        )
