"""The API's answers, filled from the catalog's own services: the list through
catalog.select_rows, sorting.order and the stored index (services/api/listed), one row
through detail.detail, operators through operators.operators_page. Nothing here decides
a rule; it only copies what the pages show.

URLs come from the caller (`Links`), so this module imports no Flask.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Hardware, ModelVariant, Submission
from webapp.services import plausibility, provenance, rules, summaries
from webapp.services.api import cursor, listed, models
from webapp.services.api.query import ListRequest, PagedRequest
from webapp.services.catalog import Selection
from webapp.services.detail import Detail, ReproductionView
from webapp.services.detail import detail as row_detail
from webapp.services.divergence import measured
from webapp.services.listing import Listing
from webapp.services.operators import operators_page
from webapp.services.page_memo import MemoStore
from webapp.services.rules import Badge, Kind, Tier
from webapp.services.sorting import order


class Links(Protocol):
    """Absolute URLs, from the caller's router."""

    def benchmark(self, benchmark_id: int) -> dict[str, str]: ...  # models.Urls' fields
    def hardware(self, slug: str) -> models.Urls: ...
    def model(self, slug: str) -> models.Urls: ...
    def next_page(self, cursor: str) -> str: ...


# --- the list ----------------------------------------------------------------------------


def _summary_fields(row: Any, *, badge: Badge, tier: Tier, stale: bool,
                    independent_operators: int, reproductions: int, share: float | None,
                    checked: plausibility.Plausibility, links: Links) -> dict[str, Any]:
    """One row as the catalog lists it, as models.BenchmarkSummary's fields: `row` is a
    Submission or a row of services/api/listed, `checked` its plausibility.of_row (the
    flags its detail page lists). A list sends its page's fields unvalidated
    (benchmark_list); a model built per row cost more than the page's query."""
    return {
        "id": row.id,
        "urls": links.benchmark(row.id),
        "kind": row.kind,
        "model": {"slug": row.model.slug, "name": _name(row, "model", row.model.name)},
        "hardware": {
            "slug": row.hardware.slug,
            "name": _name(row, "hardware", row.hardware.name),
            "devices": row.hardware_count},
        "quant": {"slug": row.quant.slug, "name": _name(row, "quant", row.quant.label)},
        "runtime": {
            "slug": row.runtime.slug,
            "name": _name(row, "runtime", row.runtime.name),
            "version": row.runtime_version},
        "medians": {"decode_tps": measured(row.decode_tps), "ttft_ms": measured(row.ttft_ms),
                    "prefill_tps": measured(row.prefill_tps),
                    "vram_peak_mib": measured(row.vram_peak_mib),
                    "tokens_generated": row.tokens_generated},
        "badge": badge,
        "tier": tier,
        "stale": stale,
        "share_of_ceiling": share,
        "flags": [flag.code for flag in checked.flags],
        "reproductions": reproductions,
        "independent_operators": independent_operators,
        "measured_at": row.measured_at,
        "published_at": row.decided_at,
        "submitted_on": row.created_at.date(),
        "demo": row.is_demo,
    }


def _name(row: Any, dimension: str, listed_name: str) -> str:
    """An entry's name as models.Named documents it: the listed name, or for an "other"
    entry (its slug says so) the name the operator typed, without the pages' "Other
    model: " prefix, alike in all four dimensions."""
    typed = getattr(row, f"other_{dimension}")
    return typed if typed and getattr(row, dimension).is_other else listed_name


def _listed(item: listed.Listed, links: Links) -> dict[str, Any]:
    """A listed row's summary fields. The share of the ceiling is the one the catalog
    shows (derived_ceiling_share, kept with the index); where it holds 0, no ceiling may
    be known (null) or the share rounds to 0, so it is the one worked out with the flags."""
    row = item.row
    checked = plausibility.of_row(row)
    return _summary_fields(row, badge=item.badge, tier=item.tier, stale=item.stale,
                           independent_operators=item.independent_operators,
                           reproductions=item.reproductions,
                           share=row.derived_ceiling_share or checked.share_of_ceiling,
                           checked=checked, links=links)


def _cursor_scope(query: Any) -> str:
    """What a list cursor is made for: the sort, and a digest of the filters, search and
    stale choice it was made under (the sort alone when there are none), so a cursor
    carried to another filtered list is refused rather than silently skipping that
    list's rows before its key."""
    scope = query.args(sort=None, page=None)
    if not scope:
        return query.sort.value
    text = json.dumps(sorted(scope.items()), ensure_ascii=True)
    return f"{query.sort.value}~{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def benchmark_list(session: Session, selection: Selection, asked: ListRequest, *,
                   now: datetime, secret: str, links: Links,
                   memos: MemoStore | None = None) -> dict[str, Any]:
    """One page of the rows `selection` picks, after `asked.cursor` (InvalidCursor when
    that is not a cursor this site made for this sort). With `memos` (the worker's), a
    filtered total is counted once per data version and minute, as the catalog's is.

    The answer is models.BenchmarkList's fields, not validated: every value is the
    database's, through the catalog's services, and validating a page of 100 rows cost
    more than its queries (the view writes them with pydantic's own encoder and, under
    TESTING, validates them first, so every test of the list checks the shape)."""
    query = selection.query
    sort_order = order(query.sort)
    narrowed = selection.narrowed(session, asked.limit + 1)
    conditions = list(narrowed.read)
    if asked.cursor is not None:
        conditions.append(cursor.after(secret, asked.cursor, _cursor_scope(query),
                                       sort_order))
    found = listed.page(session, conditions, query.sort, asked.limit, now,
                        sorted_apart=narrowed.sorted_apart)
    next_url = None
    if found.has_next:
        next_url = links.next_page(
            cursor.keyset_cursor(secret, _cursor_scope(query), sort_order, found.last_key))
    return {
        "items": [_listed(item, links) for item in found.items],
        "total": listed.total(session, selection, now, memos=memos,
                              conditions=narrowed.count),
        "limit": asked.limit,
        "query": {"q": query.q, "model": query.model, "hardware": query.hardware,
                  "quant": query.quant, "runtime": query.runtime, "badge": query.badge,
                  "tier": query.tier, "sort": query.sort.value,
                  "stale": query.include_stale},
        "next": next_url,
    }


# --- one row -----------------------------------------------------------------------------


def _signed(share: float, repro: float, hub: float) -> float:
    """The unsigned divergence `share`, signed as the reproduction lies from the original."""
    return math.copysign(share, repro - hub) if share else 0.0


def _reproduction(view: ReproductionView, original: Submission) -> models.Reproduction:
    repro, comparison = view.row, view.comparison
    handle = (repro.handle or "").strip()
    return models.Reproduction(
        id=repro.id,
        operator=handle or None,
        operator_url=view.operator_url,
        ring=view.ring,
        by_original_operator=view.own,
        band=comparison.band,
        divergence=models.Divergence(
            ttft=_signed(comparison.ttft_divergence, repro.ttft_ms, original.ttft_ms),
            decode=_signed(comparison.decode_divergence, repro.decode_tps,
                           original.decode_tps),
            worst=comparison.worst),
        decode_tps=measured(repro.decode_tps),
        ttft_ms=measured(repro.ttft_ms),
        environment=models.Environment(os_label=repro.os_label,
                                       driver_version=repro.driver_version,
                                       runtime_version=repro.runtime_version),
        measured_at=repro.measured_at,
        published_at=repro.decided_at,
    )


def _related(listing: Listing, relation: str, links: Links) -> models.Related:
    row = listing.row
    return models.Related(
        id=row.id, urls=links.benchmark(row.id), relation=relation,  # type: ignore[arg-type]
        model=listing.model_label, hardware=listing.hardware_label, badge=listing.badge,
        tier=listing.tier, decode_tps=measured(row.decode_tps), ttft_ms=measured(row.ttft_ms))


def _detail(found: Detail, links: Links) -> models.BenchmarkDetail:
    row, listing = found.row, found.listing
    assessment, confidence = listing.assessment, listing.assessment.confidence
    clean = len(found.reproductions)
    made = provenance.of_row(row)
    related = [_related(fragment, "fragment", links) for fragment in found.related]
    if found.hub is not None:
        related.insert(0, _related(found.hub, "origin", links))
    handle = (row.handle or "").strip()
    return models.BenchmarkDetail(
        id=row.id,
        urls=links.benchmark(row.id),
        kind=Kind(row.kind),
        summary=models.BenchmarkSummary.model_validate(_summary_fields(
            row, badge=listing.badge, tier=listing.tier, stale=listing.stale,
            independent_operators=confidence.independent_operators, reproductions=clean,
            share=found.plausibility.share_of_ceiling, checked=found.plausibility,
            links=links)),
        operator=handle or None,
        operator_url=found.operator_url,
        notes=(row.notes or "").strip(),
        build_context=[models.Fact(label=fact.label, value=fact.value)
                       for fact in found.build_context],
        runs=[models.Run(position=index + 1, ttft_ms=run.ttft_ms,
                         tokens_generated=run.tokens_generated, decode_tps=run.decode_tps)
              for index, run in enumerate(sorted(found.runs, key=lambda run: run.position))],
        spreads=[models.Spread(metric=spread.metric, value=spread.value,
                               limit=rules.SPREAD_LIMIT, above_limit=spread.flagged)
                 for spread in found.spreads],
        badge=models.BadgeAssessment(
            value=listing.badge, label=listing.badge.label,
            explanation=listing.badge.explanation,
            independent_operators=len(assessment.independent_operators)),
        tier=models.TierAssessment(
            value=listing.tier, label=listing.tier.label, reasons=list(confidence.reasons),
            base_tier=confidence.base_tier, age_days=confidence.age_days,
            stale=confidence.stale, metadata_complete=confidence.metadata_complete,
            consistent=confidence.consistent, drift=confidence.drift),
        ceiling=models.Ceiling(
            ceiling_tps=found.plausibility.ceiling_tps,
            share_of_ceiling=found.plausibility.share_of_ceiling,
            memory_mib=found.plausibility.memory_mib,
            bandwidth_summed=found.plausibility.bandwidth_summed,
            flags=[models.Flag(code=flag.code, label=flag.label, message=flag.message)
                   for flag in found.plausibility.flags]),
        reproductions=[_reproduction(view, row) for view in found.reproductions],
        related=related,
        provenance=models.Provenance(
            kind=made.kind,  # type: ignore[arg-type]
            text=made.text, source_format=row.source_format,
            source_version=row.source_version, sha256=made.sha256, caveat=made.caveat),
        rule_set=rules.RULE_SET_VERSION,
    )


def benchmark_detail(session: Session, benchmark_id: int, *, now: datetime,
                     links: Links) -> models.BenchmarkDetail | None:
    """One public row as the detail page shows it, or None when it is not public."""
    found = row_detail(session, benchmark_id, now=now)
    return None if found is None else _detail(found, links)


# --- reference lists and operators -------------------------------------------------------


def hardware_list(session: Session, links: Links) -> models.HardwareList:
    counts = summaries.public_row_counts(session, "hardware")
    items = [
        models.HardwareItem(slug=entry.slug, name=entry.name, vendor=entry.vendor,
                            kind=entry.kind, memory_gib=entry.memory_gib,
                            bandwidth_gb_s=entry.bandwidth_gb_s, rows=counts.get(entry.id, 0),
                            urls=links.hardware(entry.slug))
        for entry in session.scalars(select(Hardware).order_by(Hardware.vendor, Hardware.name))
    ]
    return models.HardwareList(items=items, total=len(items))


def model_list(session: Session, links: Links) -> models.ModelList:
    counts = summaries.public_row_counts(session, "model")
    items = [
        models.ModelItem(slug=entry.slug, name=entry.name, family=entry.family,
                         variant=entry.variant, params_b=entry.params_b,
                         active_params_b=entry.active_params_b, rows=counts.get(entry.id, 0),
                         urls=links.model(entry.slug))
        for entry in session.scalars(
            select(ModelVariant).order_by(ModelVariant.family, ModelVariant.name))
    ]
    return models.ModelList(items=items, total=len(items))


def operator_list(session: Session, asked: PagedRequest, *, secret: str,
                  links: Links) -> models.OperatorList:
    """Operators who gave a handle, ranked as the operators page ranks them."""
    page = 1 if asked.cursor is None else cursor.page_of(secret, asked.cursor)
    found = operators_page(session, page, per_page=asked.limit)
    if found.pagination.page != page:  # past the end: an empty page, not the last one again
        operators = []
        has_next = False
    else:
        operators, has_next = found.operators, found.pagination.has_next
    return models.OperatorList(
        items=[models.OperatorItem(
            handle=view.handle, reproductions=view.reproductions, rows=view.hubs,
            recent=[models.ReproducedRow(id=link.hub_id, label=link.label,
                                         urls=links.benchmark(link.hub_id))
                    for link in view.links])
            for view in operators],
        limit=asked.limit,
        next=links.next_page(cursor.page_cursor(secret, page + 1)) if has_next else None,
    )


# --- rules -------------------------------------------------------------------------------


def rule_set() -> models.Rules:
    def explained(members) -> list[models.Explained]:
        return [models.Explained(value=m.value, label=m.label, explanation=m.explanation)
                for m in members]

    return models.Rules(
        version=rules.RULE_SET_VERSION,
        measurement={"min_runs": rules.MIN_RUNS, "max_runs": rules.MAX_RUNS,
                     "spread_limit": rules.SPREAD_LIMIT, "ttft_max_ms": rules.TTFT_MAX_MS,
                     "decode_max_tps": rules.DECODE_MAX_TPS,
                     "prefill_max_tps": rules.PREFILL_MAX_TPS,
                     "vram_max_mib": rules.VRAM_MAX_MIB},
        divergence={"tolerance": rules.TOLERANCE, "related_limit": rules.RELATED_LIMIT,
                    "ratio_decimals": rules.RATIO_DECIMALS},
        plausibility={"ceiling_margin": rules.CEILING_MARGIN,
                      "tensor_parallel_min_devices": rules.TENSOR_PARALLEL_MIN_DEVICES},
        badge={"reproduced_operators": rules.REPRODUCED_OPERATORS,
               "independent_operators": rules.INDEPENDENT_OPERATORS},
        confidence={"cv_limit": rules.CV_LIMIT,
                    "very_high_operators": rules.VERY_HIGH_OPERATORS,
                    "high_operators": rules.HIGH_OPERATORS,
                    "moderate_operators": rules.MODERATE_OPERATORS,
                    "editorial_fresh_days": rules.EDITORIAL_FRESH_DAYS,
                    "age_lower_days": rules.AGE_LOWER_DAYS,
                    "stale_days": rules.STALE_DAYS},
        badges=explained(rules.Badge),
        tiers=explained(rules.Tier),
        bands=explained(rules.Band),
        rings=explained(rules.Ring),
        rejection_reasons=list(rules.REJECTION_REASONS),
    )

