"""Turning plans into rows: a hub, its reproductions, their runs and audit trails, and
feedback notes, as row dicts for the writer.

The numbers are plausible by construction: decode speed lands at 43–66% of the
configuration's bandwidth ceiling, a reproduction diverges within its planned band
(divergence.compare decides the band stored), the headline numbers are the runs'
medians (measurements.headline_fields), a rejected ceiling-breaker carries the reason
plausibility.assess gives, and a public hub's index columns are what
evidence.derived_values computes from its planned evidence, so no query runs per hub.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from webapp.models import (
    AuditEvent,
    FeedbackNote,
    Hardware,
    ModelVariant,
    Quant,
    RunSample,
    Runtime,
    Submission,
)
from webapp.services import divergence, evidence, measurements, plausibility
from webapp.services.demo.configs import Config, build_configs, reference_rows
from webapp.services.demo.draw import Draw
from webapp.services.demo.plan import HubPlan, ReproPlan
from webapp.services.demo.world import (
    FEEDBACK_MESSAGES,
    PLAIN_NOTES,
    PROMPT_TOKENS,
    RELATED_NOTES,
    REPRO_REJECTIONS,
)
from webapp.services.demo.writer import Writer
from webapp.services.rules import FEEDBACK_KINDS, REASON_OUT_OF_SCOPE, Band, Kind, State
from webapp.services.trust import normalise_handle

SUBMITTER = "submitter"
EDITOR = "reviewer:demo-editor"
REVIEWERS = ("reviewer:demo-editor", "reviewer:demo-reviewer")  # moderation.reviewer_actor form
# Share of the bandwidth ceiling a clean demo row reaches (the catalog promises 40–70%;
# the margin absorbs run noise and a reproduction's divergence).
SHARE_LOW, SHARE_HIGH = 0.43, 0.66

_SUBMISSION_COLUMNS = tuple(column.key for column in Submission.__table__.columns)


class _View:
    """Attribute access over a row dict, so evidence.assess can read a planned row."""

    __slots__ = ("_row",)

    def __init__(self, row: dict[str, Any]):
        self._row = row

    def __getattr__(self, name: str) -> Any:
        try:
            return self._row[name]
        except KeyError:
            raise AttributeError(name) from None


class Seeder:
    """Plans in, row dicts out: draws each row's parts and hands the rows to the writer."""

    def __init__(self, session: Session, rows: int, random_seed: int, now: datetime):
        models = reference_rows(session, ModelVariant)
        hardware = reference_rows(session, Hardware)
        quants = reference_rows(session, Quant)
        runtimes = reference_rows(session, Runtime)
        self.refs = {(type(row), row.id): row for row in (*models, *hardware, *quants, *runtimes)}
        configs, weights = build_configs(models, hardware, quants, runtimes)
        if not configs:
            raise RuntimeError("no plausible configuration in the reference data")
        self.draw = Draw(random_seed, now, configs, weights, max(24, min(4000, rows // 8)))
        self.rng = self.draw.rng
        self.writer = Writer(session)
        self.public_hubs: list[tuple[int, datetime]] = []
        self.stats: Counter[str] = Counter()

    # -- rows ---

    def _submission(self, **values: Any) -> dict[str, Any]:
        row = dict.fromkeys(_SUBMISSION_COLUMNS)
        row.update(
            concurrent_users=1, speculative=False, batch_gt1=False, notes="",
            is_demo=True, derived_repro_count=0, status_nonce=secrets.token_urlsafe(32),
        )
        row.update(values)
        return row

    def _row(self, *, config: Config, kind: Kind, state: State, hub_id: int | None,
             context: dict, ttft: float, decode: float, noisy: bool, operator: str | None,
             measured: datetime, created: datetime, decided: datetime | None,
             note: str = "", vram: float | None = None) -> dict[str, Any]:
        sub_id = self.writer.new_id(Submission)
        tokens = context["max_tokens"] or 512
        runs, spread_note = self.draw.runs(self.draw.run_count(), ttft, decode, tokens, noisy)
        headline = measurements.headline_fields(runs)
        handle = operator if operator and not operator.startswith("anon:") else None
        url = None
        if handle and self.draw.handle_index.get(handle, 1) % 3 == 0:
            url = f"https://{normalise_handle(handle)}.example.net/"
        row = self._submission(
            id=sub_id, kind=kind.value, state=state.value, hub_id=hub_id,
            model_id=config.model_id, hardware_id=config.hardware_id,
            hardware_count=config.count, quant_id=config.quant_id,
            runtime_id=config.runtime_id, tensor_parallel=config.tensor_parallel,
            **headline,
            vram_peak_mib=vram if vram is not None else self.draw.vram(config),
            prefill_tps=(
                round(PROMPT_TOKENS / (headline["ttft_ms"] / 1000) * 1.08, 1)
                if self.rng.random() < 0.6 else None
            ),
            notes=" ".join(part for part in (spread_note, note) if part),
            handle=handle, url=url,
            operator_key=normalise_handle(handle) if handle else f"anon:demo-{sub_id}",
            created_at=created, measured_at=measured, decided_at=decided,
            **context,
        )
        new_id, run_rows = self.writer.new_id, self.writer.runs
        for position, (t, n, d) in enumerate(runs):
            run_rows.append({
                "id": new_id(RunSample), "submission_id": sub_id, "position": position,
                "ttft_ms": t, "tokens_generated": n, "decode_tps": d,
            })
        self.writer.submissions.append(row)
        return row

    def _event(self, row: dict, actor: str, from_state: State | None, to_state: State,
               at: datetime, reason: str = "") -> None:
        self.writer.events.append({
            "id": self.writer.new_id(AuditEvent), "submission_id": row["id"], "actor": actor,
            "from_state": from_state.value if from_state else None,
            "to_state": to_state.value, "reason": reason, "created_at": at,
        })

    def _history(self, row: dict, kind: Kind, steps: Sequence[tuple[State, str]]) -> None:
        """Audit events: the arrival, then each (state, reason) step after it.

        Two steps are a decision and its revision: the first half-way to decided_at,
        the revision at decided_at.
        """
        created, decided = row["created_at"], row["decided_at"]
        if kind == Kind.EDITORIAL:
            self._event(row, EDITOR, None, State.APPROVED, created)
            previous = State.APPROVED
        else:
            self._event(row, SUBMITTER, None, State.QUEUED, created)
            previous = State.QUEUED
        reviewer = self.rng.choice(REVIEWERS)
        for number, (state, reason) in enumerate(steps):
            if state == State.WITHDRAWN:
                actor, at = SUBMITTER, self.draw.after(created, 3)
            elif number + 1 < len(steps):
                actor, at = reviewer, created + (decided - created) / 2
            else:
                actor, at = reviewer, decided
            self._event(row, actor, previous, state, at, reason)
            previous = state

    # -- a hub and its evidence ---

    def hub(self, plan: HubPlan) -> dict:
        """The hub's row, then its reproductions' rows, then its index columns."""
        rng = self.rng
        config = plan.config or self.draw.config()
        newest_at = self.draw.ago(plan.newest_age)
        has_evidence = any(r.state == State.REPRODUCED for r in plan.repros)
        hub_age = plan.newest_age + (rng.uniform(3, 90) if has_evidence else 0)
        measured = self.draw.ago(hub_age)
        env = self.draw.environment(config, hub_age)
        if any(r.ring == "newer-runtime" for r in plan.repros):
            versions = self.draw.versions(config)
            if env["runtime_version"] == versions[-1] and len(versions) > 1:
                env["runtime_version"] = versions[rng.randrange(len(versions) - 1)]
        context = self.draw.context(config, env, plan.complete or plan.kind == Kind.EDITORIAL)
        share = plan.share or rng.uniform(SHARE_LOW, SHARE_HIGH)
        if plan.exceeds_ceiling:
            share = rng.uniform(1.3, 2.2)
        created = self.draw.after(measured, 3)
        decided = None if plan.state in (State.QUEUED, State.WITHDRAWN) else self.draw.after(
            created, 5)
        taken = {r.operator for r in plan.repros}
        handle = None
        if plan.handle:
            handle = rng.choice(self.draw.handles)
            while handle in taken:
                handle = rng.choice(self.draw.handles)
        row = self._row(
            config=config, kind=plan.kind, state=plan.state, hub_id=None, context=context,
            ttft=self.draw.ttft(config), decode=config.ceiling_tps * share, noisy=plan.noisy,
            operator=handle, measured=measured, created=created, decided=decided,
            note=rng.choice(PLAIN_NOTES) if rng.random() < 0.08 else "",
        )
        if plan.state == State.REJECTED:
            if plan.exceeds_ceiling:
                plan.rejection = self._ceiling_reason(config, row["decode_tps"])
            row["rejection_reason"] = plan.rejection
        steps: list[tuple[State, str]] = []
        if plan.revised_from is not None:
            steps.append((plan.revised_from, ""))
        if plan.state != State.QUEUED and not (
            plan.kind == Kind.EDITORIAL and plan.state == State.APPROVED
        ):
            steps.append((plan.state, plan.rejection or ""))
        self._history(row, plan.kind, steps)
        self.stats[f"{plan.kind.value} {plan.state.value}"] += 1

        evidence_rows: list[dict] = []
        first_clean = True
        for repro in plan.repros:
            exactly = None
            if repro.state == State.REPRODUCED:
                exactly = newest_at if first_clean else None
                first_clean = False
            repro_row = self.reproduction(row, config, env, repro, newest_at, exactly)
            if repro_row["state"] in evidence.EVIDENCE_STATES:
                evidence_rows.append(repro_row)
        if plan.state == State.APPROVED or plan.revised_from == State.APPROVED:
            row.update(evidence.derived_values(_View(row), [
                _View(r) for r in sorted(evidence_rows, key=lambda r: r["created_at"])]))
            row["derived_ceiling_share"] = self._share(row)
        if plan.state == State.APPROVED:
            self.public_hubs.append((row["id"], row["created_at"]))
        return row

    def _share(self, row: dict) -> float:
        """The catalog's share-of-ceiling sort value, from the reference rows in hand (a
        planned row has ids, not the objects evidence.ceiling_share reads)."""
        setup = plausibility.Setup(
            model=self.refs[(ModelVariant, row["model_id"])],
            hardware=self.refs[(Hardware, row["hardware_id"])],
            hardware_count=row["hardware_count"], quant=self.refs[(Quant, row["quant_id"])],
            tensor_parallel=bool(row["tensor_parallel"]),
        )
        return evidence.ceiling_share(setup, row["decode_tps"])

    def _ceiling_reason(self, config: Config, decode: float) -> str:
        setup = plausibility.Setup(
            model=self.refs[(ModelVariant, config.model_id)],
            hardware=self.refs[(Hardware, config.hardware_id)],
            hardware_count=config.count, quant=self.refs[(Quant, config.quant_id)],
        )
        result = plausibility.assess(setup, decode_tps=decode, vram_peak_mib=None)
        return result.flags[0].rejection_reason if result.flags else REASON_OUT_OF_SCOPE

    def reproduction(self, hub: dict, config: Config, hub_env: dict, plan: ReproPlan,
                     newest_at: datetime, exactly_at: datetime | None) -> dict:
        """One reproduction of `hub`. Clean ones are measured no later than `newest_at`
        (the first one exactly then), so the hub's age is what its plan says."""
        rng = self.rng
        hub_measured = hub["measured_at"]
        if exactly_at is not None:
            measured = exactly_at
        elif plan.state == State.REPRODUCED:
            span = (newest_at - hub_measured).total_seconds()
            measured = hub_measured + timedelta(seconds=rng.uniform(0.1, 1.0) * span)
        elif plan.state == State.QUEUED:
            measured = max(self.draw.ago(rng.uniform(0.5, 12)), hub_measured + timedelta(hours=1))
        else:
            measured = self.draw.after(hub_measured, 400, 1)
        if plan.ring == "inner":
            env = dict(hub_env)
        else:
            env = self.draw.other_environment(config, hub_env, plan.ring == "newer-runtime")
        context = self.draw.context(config, env, True)
        for name in ("prompt_tokens", "max_tokens", "seed"):
            context[name] = hub[name] or context[name]
        if rng.random() < 0.8:
            context["quant_provider"] = hub["quant_provider"] or context["quant_provider"]
            context["model_sha256_prefix"] = hub["model_sha256_prefix"]
        if plan.state == State.REJECTED and rng.random() < 0.5:
            context["driver_version"] = None

        # A divergence in the planned band, towards the side that keeps the row inside
        # 40–70% of the ceiling.
        if plan.divergence is not None:
            worst = plan.divergence
        elif plan.band == Band.RELATED:
            worst = rng.uniform(0.115, 0.235)
        else:
            worst = min(abs(rng.gauss(0, 0.035)), 0.09)
        share = hub["decode_tps"] / config.ceiling_tps
        up = share * (1 + worst) <= SHARE_HIGH + 0.03
        down = share * (1 - worst) >= SHARE_LOW - 0.02
        sign = plan.sign or (rng.choice((1, -1)) if up and down else 1 if up else -1)
        decode = hub["decode_tps"] * (1 + sign * worst)
        ttft = hub["ttft_ms"] * (1 + rng.uniform(-1, 1) * min(worst, 0.09) * 0.9)

        note = ""
        if plan.band == Band.RELATED:
            note = rng.choice(RELATED_NOTES)
        elif rng.random() < 0.05:
            note = rng.choice(PLAIN_NOTES)
        operator = hub["handle"] if plan.operator == "hub" else plan.operator
        created = self.draw.after(measured, 2)
        undecided = plan.state in (State.QUEUED, State.WITHDRAWN)
        decided = None if undecided else self.draw.after(created, 6)
        row = self._row(
            config=config, kind=Kind.REPRODUCTION, state=plan.state, hub_id=hub["id"],
            context=context, ttft=ttft, decode=decode, noisy=False, operator=operator,
            measured=measured, created=created, decided=decided, note=note,
        )
        comparison = divergence.compare(hub["ttft_ms"], hub["decode_tps"], row["ttft_ms"],
                                        row["decode_tps"])
        row["worst_divergence"] = comparison.worst
        row["band"] = comparison.band.value

        reason = ""
        if plan.state == State.REJECTED:
            reason = rng.choice(REPRO_REJECTIONS)
            if plan.revised_from is not None:
                reason = ("Revised: the reproducer confirmed a different quant file was used; "
                          "no longer counted.")
            row["rejection_reason"] = reason
        elif plan.state == State.APPROVED:
            reason = ("Related, not a clean reproduction: published as a row of its own, "
                      "linked to the original.")
        elif plan.state == State.REPRODUCED and plan.revised_from == State.REJECTED:
            reason = "Revised on appeal: the operator supplied the missing driver version."
        elif plan.state == State.REPRODUCED and comparison.band == Band.RELATED:
            reason = "Counted as a reproduction: the note explains the delta."
        steps: list[tuple[State, str]] = []
        if plan.revised_from is not None:
            first = REPRO_REJECTIONS[0] if plan.revised_from == State.REJECTED else ""
            steps.append((plan.revised_from, first))
        if plan.state != State.QUEUED:
            steps.append((plan.state, reason))
        self._history(row, Kind.REPRODUCTION, steps)
        self.stats[f"reproduction {plan.state.value}"] += 1
        if plan.state in (State.REPRODUCED, State.APPROVED):
            self.stats["outer ring" if plan.ring != "inner" else "inner ring"] += 1

        if plan.state == State.APPROVED:
            # A fragment is a catalog row of its own, with its own (empty) evidence.
            row.update(evidence.derived_values(_View(row), []))
            row["derived_ceiling_share"] = self._share(row)
            self.public_hubs.append((row["id"], row["created_at"]))
        return row

    # -- feedback ---

    def feedback(self, count: int) -> None:
        if not self.public_hubs:
            return
        for hub_id, created in self.rng.sample(self.public_hubs, min(count,
                                                                     len(self.public_hubs))):
            kind = self.rng.choice(tuple(FEEDBACK_KINDS))
            messages = FEEDBACK_MESSAGES.get(kind) or FEEDBACK_MESSAGES["other"]
            self.writer.notes.append({
                "id": self.writer.new_id(FeedbackNote), "submission_id": hub_id, "kind": kind,
                "message": self.rng.choice(messages), "ip_hash": None, "status": "open",
                "resolution_note": None, "resolved_by_id": None, "resolved_at": None,
                "is_demo": True, "created_at": self.draw.after(created, 60),
            })
        self.stats["feedback notes"] += len(self.writer.notes)

    def public_count(self) -> int:
        return self.stats[f"{Kind.FRESH.value} {State.APPROVED.value}"] + self.stats[
            f"{Kind.EDITORIAL.value} {State.APPROVED.value}"
        ] + self.stats[f"reproduction {State.APPROVED.value}"]
