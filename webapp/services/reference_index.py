"""The /hardware and /models index pages: every reference entry with its public row count,
grouped by vendor (hardware) or family (models), each group and entry in natural order
("RTX 3090" before "RTX 4090", "8B" before "70B").

Counts come from the summary services.summaries keeps as decisions land, so a page reads
the reference tables and one row per entry, however many rows the catalog holds. Entries
with no public row are listed too, with 0: their pages exist and say so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from webapp.models import Hardware, ModelVariant, PublicRowCount
from webapp.services import data_version, reference_memo
from webapp.services.pick_lists import OTHER_GROUP
from webapp.services.summaries import HARDWARE, MODEL

CPU_GROUP = "CPU only (by memory tier)"  # as the submission form's pick-list groups them


def natural_key(text: str) -> tuple[tuple[int, Any], ...]:
    """Sort key reading digit runs as numbers and letters without case: "M2" < "M10"."""
    return tuple((0, int(part)) if part.isdigit() else (1, part.casefold())
                 for part in re.split(r"(\d+)", text) if part)


@dataclass(frozen=True)
class IndexEntry:
    slug: str
    name: str
    facts: tuple[str, ...]  # a few reference facts, as the index shows them
    rows: int

    @property
    def facts_text(self) -> str:
        return ", ".join(self.facts)

    @property
    def rows_label(self) -> str:
        if self.rows == 0:
            return "none yet"
        return f"{self.rows:,} public row" + ("" if self.rows == 1 else "s")


@dataclass(frozen=True)
class IndexGroup:
    label: str
    entries: tuple[IndexEntry, ...]


@dataclass(frozen=True)
class IndexPage:
    groups: tuple[IndexGroup, ...]
    demo_shown: bool  # some counted row is demo data

    @property
    def entry_count(self) -> int:
        return sum(len(group.entries) for group in self.groups)

    @property
    def row_count(self) -> int:
        return sum(entry.rows for group in self.groups for entry in group.entries)


def _amount(value: float | None, unit: str) -> str | None:
    # reference facts keep their published precision (8.03 billion, 51.2 GB/s)
    return None if value is None else f"{value:,g} {unit}"


def _hardware_facts(entry: Any) -> tuple[str | None, ...]:
    return (_amount(entry.memory_gib, "GiB"), _amount(entry.bandwidth_gb_s, "GB/s"))


def _model_facts(entry: Any) -> tuple[str | None, ...]:
    active = None
    if entry.active_params_b is not None and entry.active_params_b != entry.params_b:
        active = _amount(entry.active_params_b, "billion active")
    return (_amount(entry.params_b, "billion parameters"), active)


def _hardware_group(entry: Any) -> str:
    if entry.kind == "other":
        return OTHER_GROUP
    return CPU_GROUP if entry.kind == "cpu" else entry.vendor


def _model_group(entry: Any) -> str:
    return OTHER_GROUP if entry.variant == "other" else entry.family


@dataclass(frozen=True)
class _Kind:
    entity: type[Hardware] | type[ModelVariant]
    subject: str
    columns: tuple[str, ...]  # what group and facts read
    group: Callable[[Any], str]
    facts: Callable[[Any], tuple[str | None, ...]]


_KINDS = {
    HARDWARE: _Kind(Hardware, HARDWARE, ("kind", "vendor", "memory_gib", "bandwidth_gb_s"),
                    _hardware_group, _hardware_facts),
    MODEL: _Kind(ModelVariant, MODEL, ("variant", "family", "params_b", "active_params_b"),
                 _model_group, _model_facts),
}


def _group_order(label: str) -> tuple[int, tuple[tuple[int, Any], ...]]:
    """Vendors and families in natural order; CPU tiers after them, "not in the list" last."""
    return ({CPU_GROUP: 1, OTHER_GROUP: 2}.get(label, 0), natural_key(label))


# (group label, ((reference id, slug, name, facts), ...)), groups and entries in order
_Arranged = tuple[tuple[str, tuple[tuple[int, str, str, tuple[str, ...]], ...]], ...]


def _arranged(kind: _Kind) -> Callable[[Session], _Arranged]:
    """Every reference entry of `kind` grouped and in natural order: reference data alone,
    so it is kept for the data version (services.reference_memo)."""

    def build(session: Session) -> _Arranged:
        entity = kind.entity
        groups: dict[str, list[tuple[int, str, str, tuple[str, ...]]]] = {}
        for values in session.execute(select(
                entity.id, entity.slug, entity.name,
                *(getattr(entity, name) for name in kind.columns))):
            entry = SimpleNamespace(**dict(zip(kind.columns, values[3:], strict=True)))
            facts = tuple(fact for fact in kind.facts(entry) if fact)
            groups.setdefault(kind.group(entry), []).append(
                (values[0], values[1], values[2], facts))
        return tuple(
            (label, tuple(sorted(groups[label], key=lambda e: natural_key(e[2]))))
            for label in sorted(groups, key=_group_order)
        )

    return build


_COUNTED = select(PublicRowCount.reference_id, PublicRowCount.rows,
                  PublicRowCount.demo_rows).where(PublicRowCount.subject == bindparam("subject"))


def index_page(session: Session, subject: str) -> IndexPage:
    """Every hardware entry (subject "hardware") or model ("model") with its public rows."""
    kind = _KINDS[subject]
    arranged = reference_memo.kept(session, f"index-{subject}", data_version.current(session),
                                   _arranged(kind))
    counted = {reference_id: (rows, demo) for reference_id, rows, demo in
               session.connection().execute(_COUNTED, {"subject": kind.subject}).all()}
    return IndexPage(
        groups=tuple(
            IndexGroup(label, tuple(
                IndexEntry(slug, name, facts, counted.get(reference_id, (0, 0))[0])
                for reference_id, slug, name, facts in entries))
            for label, entries in arranged
        ),
        demo_shown=any(demo for _rows, demo in counted.values()),
    )


def hardware_index_page(session: Session) -> IndexPage:
    return index_page(session, HARDWARE)


def models_index_page(session: Session) -> IndexPage:
    return index_page(session, MODEL)
