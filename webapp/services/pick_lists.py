"""The forms' pick-lists: reference rows grouped for reading, looked up by slug, and the
runtimes a reproduction may choose (its hub's engine family)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Hardware, ModelVariant, Quant, Runtime


@dataclass(frozen=True)
class Group:
    label: str
    options: tuple


# table ("models", "hardware", "quants", "runtimes") -> slug -> reference row; also the
# context the fresh schema validates its pick-lists against.
References = Mapping[str, Mapping[str, object]]
PICKED = (("model", "models", ModelVariant), ("hardware", "hardware", Hardware),
          ("quant", "quants", Quant), ("runtime", "runtimes", Runtime))


@dataclass(frozen=True)
class Choices:
    """The fresh form's pick-lists, grouped for reading, and each table by slug."""

    models: tuple[Group, ...]
    hardware: tuple[Group, ...]
    quants: tuple[Group, ...]
    runtimes: tuple[Group, ...]
    by_slug: References


OTHER_GROUP = "Not in the list"


def _groups(rows: Iterable, key: Callable[[object], str]) -> tuple[Group, ...]:
    """Rows grouped by `key` in the order the reference data lists them; the "other"
    entry last, in a group of its own."""
    groups: dict[str, list] = {}
    others = []
    for row in rows:
        if row.is_other:
            others.append(row)
        else:
            groups.setdefault(key(row), []).append(row)
    return (*(Group(label, tuple(members)) for label, members in groups.items()),
            Group(OTHER_GROUP, tuple(others)))


def _hardware_group(row: Hardware) -> str:
    return "CPU only (by memory tier)" if row.kind == "cpu" else row.vendor


def reference_choices(session: Session) -> Choices:
    models = session.scalars(
        select(ModelVariant).order_by(ModelVariant.family, ModelVariant.params_b,
                                      ModelVariant.name)
    ).all()
    hardware = session.scalars(select(Hardware).order_by(Hardware.id)).all()
    quants = session.scalars(select(Quant).order_by(Quant.id)).all()
    runtimes = session.scalars(select(Runtime).order_by(Runtime.id)).all()
    return Choices(
        models=_groups(models, lambda row: row.family),
        hardware=_groups(hardware, _hardware_group),
        quants=_groups(quants, lambda row: row.family),
        runtimes=_groups(runtimes, lambda row: f"{row.engine_family} engine family"),
        by_slug={
            table: {row.slug: row for row in rows}
            for table, rows in (("models", models), ("hardware", hardware),
                                ("quants", quants), ("runtimes", runtimes))
        },
    )


def picked_references(session: Session, values: Mapping[str, str]) -> References:
    """Only the reference rows a form picked: all the live check needs, cheaply."""
    picked: dict[str, dict[str, object]] = {}
    for field_name, table, model in PICKED:
        slug = values.get(field_name)
        row = session.scalar(select(model).where(model.slug == slug)) if slug else None
        picked[table] = {slug: row} if row is not None else {}
    return picked


def family_runtimes(session: Session, runtime: Runtime) -> dict[str, Runtime]:
    """The runtimes a reproduction may use: the hub's engine family (only itself when
    the hub's runtime is "other", whose family says nothing)."""
    if runtime.is_other:
        return {runtime.slug: runtime}
    rows = session.scalars(
        select(Runtime).where(Runtime.engine_family == runtime.engine_family)
        .order_by(Runtime.id)
    )
    return {row.slug: row for row in rows}
