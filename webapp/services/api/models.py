"""The API's response models: what the views serialise, and what the OpenAPI document's
schemas are generated from (one source of truth).

Every field here is one a public page shows. Never add an address hash, a nonce, a
token, an operator key, a reviewer's name or a row that is not approved-public.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from webapp.services.rules import Badge, Band, FlagCode, Kind, Ring, Tier


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Problem(_Out):
    """An error, as RFC 9457 describes it (application/problem+json)."""

    type: str = Field(default="about:blank", description="A URI naming the problem type.")
    title: str = Field(description="The HTTP status phrase.")
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="What went wrong, in a sentence a person can act on.")
    instance: str | None = Field(default=None, description="The path that was asked for.")
    parameter: str | None = Field(
        default=None, description="The query parameter whose value was refused, if any.")


class Urls(_Out):
    html: str = Field(description="The page for people.")
    api: str = Field(description="This resource in the API.")


class Reference(_Out):
    """A model, quant or runtime from the reference lists, as the row names it."""

    slug: str
    name: str = Field(description="The listed name (or the operator's own for 'other').")


class HardwareUsed(_Out):
    slug: str
    name: str = Field(description="The listed name (or the operator's own for 'other').")
    devices: int = Field(ge=1, description="How many of the device the run used.")


class RuntimeUsed(_Out):
    slug: str
    name: str = Field(description="The listed name (or the operator's own for 'other').")
    version: str | None


class Medians(_Out):
    """Medians of the timed runs."""

    decode_tps: float = Field(description="Decode speed, tokens per second.")
    ttft_ms: float = Field(description="Time to first token, milliseconds.")
    prefill_tps: float | None = Field(description="Prompt processing, tokens per second.")
    vram_peak_mib: float
    tokens_generated: int


class BenchmarkSummary(_Out):
    """One public row as the catalog lists it."""

    id: int
    urls: Urls
    kind: Kind
    model: Reference
    hardware: HardwareUsed
    quant: Reference
    runtime: RuntimeUsed
    medians: Medians
    badge: Badge
    tier: Tier
    stale: bool = Field(description="The newest accepted measurement is over 18 months old.")
    share_of_ceiling: float | None = Field(
        description="Decode speed over the hardware's bandwidth ceiling (1.0 = at it); "
                    "null when a reference fact is missing.")
    flags: list[FlagCode] = Field(
        description="The row's plausibility flags, the codes of its detail's ceiling.flags ("
                    + "; ".join(f"{code.value}: {code.label}" for code in FlagCode)
                    + "); empty when it has none.")
    reproductions: int = Field(ge=0, description="Clean reproductions (state reproduced).")
    independent_operators: int = Field(ge=0)
    measured_at: datetime
    published_at: datetime | None = Field(description="When a reviewer made the row public.")
    submitted_on: date = Field(description=(
        "The day (UTC) the row was submitted: the catalog's Added column, and what "
        "sort=newest orders by (newest first)."))
    demo: bool = Field(description="Generated demo data, not a real measurement.")


class AppliedQuery(_Out):
    """The search, filters and sort this list was selected by."""

    q: str | None = Field(description="The search, its spaces collapsed; null: none.")
    model: str | None
    hardware: str | None
    quant: str | None
    runtime: str | None
    badge: Badge | None
    tier: Tier | None
    sort: str
    stale: bool


class BenchmarkList(_Out):
    items: list[BenchmarkSummary]
    total: int = Field(ge=0, description="Rows matching the filters, across all pages.")
    limit: int = Field(ge=1, le=100)
    query: AppliedQuery
    next: str | None = Field(description="The next page's absolute URL; null on the last page.")


# --- one row -----------------------------------------------------------------------------


class Fact(_Out):
    label: str
    value: str | None = Field(description="null: not given.")


class Run(_Out):
    position: int
    ttft_ms: float
    tokens_generated: int
    decode_tps: float


class Spread(_Out):
    metric: str
    value: float = Field(description="(max − min) ÷ median across the runs.")
    limit: float
    above_limit: bool


class BadgeAssessment(_Out):
    value: Badge
    label: str
    explanation: str
    independent_operators: int = Field(
        ge=0, description="Distinct operators other than the original with a clean reproduction.")


class TierAssessment(_Out):
    value: Tier
    label: str
    reasons: list[str] = Field(description="Each step of the derivation, in order.")
    base_tier: Tier
    age_days: int
    stale: bool
    metadata_complete: bool
    consistent: bool
    drift: bool


class Flag(_Out):
    code: FlagCode
    label: str
    message: str


class Ceiling(_Out):
    ceiling_tps: float | None
    share_of_ceiling: float | None
    memory_mib: float | None
    bandwidth_summed: bool = Field(description="Tensor parallel: the devices' bandwidths add up.")
    flags: list[Flag]


class Divergence(_Out):
    """(reproduction − original) ÷ original: negative is slower (decode) or quicker (TTFT)."""

    ttft: float
    decode: float
    worst: float = Field(ge=0, description="The larger of the two, unsigned: decides the band.")


class Environment(_Out):
    os_label: str | None
    driver_version: str | None
    runtime_version: str | None


class Reproduction(_Out):
    id: int
    operator: str | None = Field(description="The handle the operator gave; null: anonymous.")
    operator_url: str | None
    ring: Ring | None = Field(description="null: outside tolerance, accepted with a note, "
                                          "or a re-run by the original operator.")
    by_original_operator: bool = Field(description=(
        "A re-run by the operator who published the row: accepted, but an operator cannot "
        "reproduce their own row, so it counts for neither badge nor tier and has no ring."))
    band: Band
    divergence: Divergence
    decode_tps: float
    ttft_ms: float
    environment: Environment
    measured_at: datetime
    published_at: datetime | None


class Related(_Out):
    id: int
    urls: Urls
    relation: Literal["fragment", "origin"] = Field(
        description="fragment: a reproduction of this row that became its own row; origin: "
                    "the row this one began as a reproduction of.")
    model: str
    hardware: str
    badge: Badge
    tier: Tier
    decode_tps: float
    ttft_ms: float


class Provenance(_Out):
    """How the numbers got there."""

    kind: Literal["measured", "imported", "typed"]
    text: str
    source_format: str | None
    source_version: str | None
    sha256: str | None
    caveat: str | None


class BenchmarkDetail(_Out):
    id: int
    urls: Urls
    kind: Kind
    summary: BenchmarkSummary
    operator: str | None = Field(description=(
        "The handle the operator gave; null: anonymous, or, when kind is editorial, "
        "measured by the editors."))
    operator_url: str | None
    notes: str
    build_context: list[Fact]
    runs: list[Run]
    spreads: list[Spread]
    badge: BadgeAssessment
    tier: TierAssessment
    ceiling: Ceiling
    reproductions: list[Reproduction]
    related: list[Related]
    provenance: Provenance
    rule_set: str


# --- reference lists ---------------------------------------------------------------------


class HardwareItem(_Out):
    slug: str
    name: str
    vendor: str
    kind: str
    memory_gib: float | None
    bandwidth_gb_s: float | None
    rows: int = Field(ge=0, description="Public rows on this hardware.")
    urls: Urls


class ModelItem(_Out):
    slug: str
    name: str
    family: str
    variant: str
    params_b: float | None
    active_params_b: float | None
    rows: int = Field(ge=0, description="Public rows of this model.")
    urls: Urls


class HardwareList(_Out):
    items: list[HardwareItem]
    total: int = Field(ge=0)


class ModelList(_Out):
    items: list[ModelItem]
    total: int = Field(ge=0)


class ReproducedRow(_Out):
    id: int
    label: str
    urls: Urls


class OperatorItem(_Out):
    handle: str
    reproductions: int = Field(ge=0, description="Clean reproductions of public rows.")
    rows: int = Field(ge=0, description="Distinct public rows reproduced.")
    recent: list[ReproducedRow] = Field(description="The newest rows reproduced.")


class OperatorList(_Out):
    items: list[OperatorItem]
    limit: int = Field(ge=1, le=100)
    next: str | None


# --- rules -------------------------------------------------------------------------------


class Explained(_Out):
    value: str
    label: str
    explanation: str


class Rules(_Out):
    version: str
    measurement: dict[str, int | float]
    divergence: dict[str, int | float]
    plausibility: dict[str, int | float]
    badge: dict[str, int]
    confidence: dict[str, int | float]
    badges: list[Explained]
    tiers: list[Explained]
    bands: list[Explained]
    rings: list[Explained]
    rejection_reasons: list[str]
