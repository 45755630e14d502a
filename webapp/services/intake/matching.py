"""Mapping the names tools report onto the reference tables (hardware, models, quants,
runtimes), and checking an intake against a locked matching set.

Matching is exact after normalising case, spacing, punctuation and vendor prefixes: a
name that only resembles an entry (an RTX 4090 D, a fine-tune of Llama 3.1) is not that
entry. Anything unknown maps to "other" with the tool's raw text kept, so the operator
sees it and decides.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from webapp.services.intake.core import OTHER, Draft, Intake, References

# Names tools print that differ from the reference names by more than spelling.
# Keyed by reference slug; an entry whose slug is absent from the references is ignored.
KNOWN_HARDWARE_NAMES: Mapping[str, tuple[str, ...]] = {
    "h100-sxm": ("NVIDIA H100 80GB HBM3", "H100 SXM5 80GB"),
    "a100-80gb-sxm": ("NVIDIA A100-SXM4-80GB",),
    "rtx-pro-6000": ("NVIDIA RTX PRO 6000 Blackwell Workstation Edition",),
    "dgx-spark": ("NVIDIA GB10",),
    "ryzen-ai-max-395": ("AMD Radeon 8060S Graphics",),
}
KNOWN_RUNTIME_NAMES: Mapping[str, tuple[str, ...]] = {
    "llama-cpp": ("llamacpp", "llama-server", "llama-bench", "llama-cpp-python"),
    "vllm": ("vllm-openai",),
    "tgi": ("text-generation-inference",),
}
# Ollama's library tags (NAME:SIZE) that spell no variant serve the instruct / chat model.
# A bare NAME or NAME:latest is NAME's default size (deepseek-r1's moved: it has none here).
OLLAMA_LIBRARY: Mapping[str, str] = {
    "llama3.1:8b": "llama-3.1-8b-instruct", "llama3.1:70b": "llama-3.1-70b-instruct",
    "llama3.3:70b": "llama-3.3-70b-instruct", "qwen2.5:7b": "qwen2.5-7b-instruct",
    "qwen2.5:14b": "qwen2.5-14b-instruct", "qwen2.5:32b": "qwen2.5-32b-instruct",
    "qwen3:30b-a3b": "qwen3-30b-a3b", "mistral:7b": "mistral-7b-instruct-v0.3",
    "mixtral:8x7b": "mixtral-8x7b-instruct", "gemma2:9b": "gemma-2-9b-it",
    "phi3:mini": "phi-3-mini-4k-instruct", "phi3:3.8b": "phi-3-mini-4k-instruct",
    "deepseek-r1:7b": "deepseek-r1-distill-qwen-7b",
    "gpt-oss:20b": "gpt-oss-20b", "gpt-oss:120b": "gpt-oss-120b",
}
OLLAMA_DEFAULT_SIZES = {"llama3.1": "8b", "llama3.3": "70b", "qwen2.5": "7b", "mistral": "7b",
                        "mixtral": "8x7b", "gemma2": "9b", "phi3": "3.8b", "gpt-oss": "20b"}
_VENDOR_WORDS = ("nvidia", "amd", "ati", "intel", "apple")
_TRADEMARKS = re.compile(r"\((?:r|tm|c)\)|[®™]", re.IGNORECASE)
_QUALIFIERS = re.compile(r"\([^)]*\)|\b\d+\s*gb\b", re.IGNORECASE)
_COUNT_PREFIX = re.compile(r"^(\d{1,3})\s*[x×]\s*(\S.*)$", re.IGNORECASE)
# Trailing quant / format tags in a model file name or repository id.
_QUANT_TAG = re.compile(
    r"[-_.\s](?P<tag>i?q\d(?:_[a-z0-9]+)*|t?q\d_\d|bf16|f16|f32|fp16|fp32|fp8|mxfp4|nvfp4"
    r"|awq|gptq|int4|int8|w4a16|w8a8|w8a16|\d+-?bit|ud|gguf|mlx|exl2|\d+(?:\.\d+)?bpw"
    r"|imat|imatrix|\d{5}-of-\d{5})$",
    re.IGNORECASE,
)
_MODEL_VENDORS = ("meta", "mistralai", "google", "microsoft", "deepseekai", "openai", "qwen")
# llama.cpp's file-type names ("Q4_K - Medium", "IQ4_XS - 4.25 bpw", "mostly Q4_0", ...)
_FTYPE = re.compile(
    r"(?:mostly\s+|all\s+)?(?P<q>[A-Z][A-Z0-9_]*\d[A-Z0-9_]*)"
    r"(?:\s+-\s+(?P<size>Extra small|Small|Medium|Large)|\s+-\s+[\d.]+ bpw(?: ternary)?|\s+MoE)?"
    r"(?P<guessed>\s+\(guessed\))?\s*$"
)
_SIZES = {"Extra small": "XS", "Small": "S", "Medium": "M", "Large": "L"}
_VERSION_TAIL = re.compile(r"[\s:/@-]+v?\d+(?:\.\d+)+\S*$", re.IGNORECASE)


@dataclass(frozen=True)
class Match:
    """A reference slug (or OTHER) for a raw name, with a caveat when the tool's name
    leaves something open (e.g. the memory size)."""

    slug: str
    raw: str
    count: int = 1
    caveat: str | None = None

    @property
    def known(self) -> bool:
        return self.slug != OTHER


def squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


# --- hardware ----------------------------------------------------------------------------


def gpu_key(name: str) -> str:
    words = re.findall(r"[a-z0-9]+", _TRADEMARKS.sub(" ", name).lower().replace("_", " "))
    while words and words[0] in _VENDOR_WORDS:
        words.pop(0)
    return " ".join(words)


def _hardware_index(refs: References) -> dict[str, tuple[str, str | None]]:
    """gpu key -> (slug, caveat). Keys made by dropping a qualifier ("12GB", "(16-core
    CPU)") carry the dropped text as a caveat; a key two entries share is left out."""
    exact: dict[str, str] = {}
    loose: dict[str, list[tuple[str, str]]] = {}
    for ref in refs.hardware:
        if ref.slug == OTHER or ref.kind in ("cpu", OTHER):
            continue
        for name in (ref.name, *ref.aliases, *KNOWN_HARDWARE_NAMES.get(ref.slug, ())):
            exact.setdefault(gpu_key(name), ref.slug)
        dropped = [part.strip(" ()") for part in _QUALIFIERS.findall(ref.name)]
        if dropped:
            key = gpu_key(_QUALIFIERS.sub(" ", ref.name))
            loose.setdefault(key, []).append((ref.slug, ", ".join(dropped)))
    index: dict[str, tuple[str, str | None]] = {key: (slug, None) for key, slug in exact.items()}
    for key, entries in loose.items():
        if len(entries) == 1 and key and key not in index:
            index[key] = (entries[0][0], entries[0][1])
    return index


def split_devices(raw: str) -> list[str]:
    """"NVIDIA GeForce RTX 4090, NVIDIA GeForce RTX 4090" (newer llama.cpp) or
    "A/B" (older builds) -> one name per device; "4x NVIDIA L40S" -> four."""
    devices: list[str] = []
    for part in re.split(r",|/", raw.replace("_", " ")):
        name = part.strip()
        if not name:
            continue
        counted = _COUNT_PREFIX.match(name)
        if counted and int(counted.group(1)) > 0:
            devices.extend([counted.group(2).strip()] * int(counted.group(1)))
        else:
            devices.append(name)
    return devices


def match_hardware(raw: str, refs: References) -> Match:
    devices = split_devices(raw)
    text = " ".join(raw.split())
    if not devices:
        return Match(OTHER, text)
    kinds = Counter(gpu_key(name) for name in devices)
    if len(kinds) > 1:
        return Match(
            OTHER, text, len(devices),
            "The devices are of different kinds; a row is one SKU times a count.",
        )
    key, count = kinds.most_common(1)[0]
    found = _hardware_index(refs).get(key)
    if found is None:
        return Match(OTHER, devices[0], count)
    slug, dropped = found
    caveat = None
    if dropped:
        name = next(ref.name for ref in refs.hardware if ref.slug == slug)
        caveat = f"“{devices[0]}” does not say {dropped}: check that yours is the {name}."
    return Match(slug, devices[0], count, caveat)


# --- models ------------------------------------------------------------------------------


def strip_quant_tags(name: str) -> tuple[str, list[str]]:
    """"Qwen2.5-7B-Instruct-Q4_K_M" -> ("Qwen2.5-7B-Instruct", ["Q4_K_M"])."""
    tags: list[str] = []
    while True:
        match = _QUANT_TAG.search(name)
        if not match or match.start() == 0:
            return name, tags
        tags.insert(0, match.group("tag"))
        name = name[: match.start()]


def model_stem(raw: str) -> str:
    """A file path or repository id -> the model's own name, without folders (which may
    hold the operator's user name), extension or shard suffix."""
    name = re.split(r"[/\\]", raw.strip())[-1]
    return re.sub(r"\.(gguf|bin|safetensors|llamafile)$", "", name, flags=re.IGNORECASE)


def match_model(raw: str, refs: References) -> Match:
    stem = model_stem(raw)
    name, _tags = strip_quant_tags(stem)
    key = squash(name)
    if not key:
        return Match(OTHER, stem)
    best: str | None = None
    for ref in refs.models:
        if ref.slug == OTHER:
            continue
        for candidate in (ref.name, ref.slug, *ref.aliases):
            ref_key = squash(candidate)
            if key == ref_key or any(key == vendor + ref_key for vendor in _MODEL_VENDORS):
                best = ref.slug
                break
        if best:
            break
    return Match(best, stem) if best else Match(OTHER, stem)


def ollama_library_model(tag: str) -> str | None:
    """The slug Ollama's library serves as NAME, NAME:latest or NAME:SIZE (quant aside)."""
    name, _, size = strip_quant_tags(tag.strip().lower())[0].partition(":")
    size = OLLAMA_DEFAULT_SIZES.get(name, "") if size in ("", "latest") else size
    return OLLAMA_LIBRARY.get(f"{name}:{size}")


# --- quants ------------------------------------------------------------------------------


def gguf_ftype(model_type: str) -> tuple[str | None, bool]:
    """llama.cpp's file-type text -> ("Q4_K_M", guessed?)."""
    match = _FTYPE.search(model_type.strip())
    if not match:
        return None, False
    level, size = match.group("q"), match.group("size")
    if size and not (level == "Q2_K" and size == "Medium"):
        level = f"{level}_{_SIZES[size]}"
    return level, bool(match.group("guessed"))


def quant_key(label: str, *, gguf: bool) -> str:
    """A quant as a tool names it -> the key reference entries are matched on:
    "Q4_K_M" in a GGUF context -> "ggufq4km", "AWQ" -> "awqint4", "FP8" -> "fp8"."""
    tags = [tag.lower().replace("-", "") for tag in re.split(r"[-_\s/]+", label) if tag]
    text = squash(label)
    if "awq" in tags:
        return "awqint8" if any(t in ("int8", "8bit", "w8a16") for t in tags) else "awqint4"
    if "gptq" in tags:
        bits = next((t for t in tags if t in ("int4", "4bit", "w4a16", "int8", "8bit")), "")
        return "gptq" + {"4bit": "int4", "w4a16": "int4", "8bit": "int8"}.get(bits, bits)
    if "mlx" in tags:
        return "mlx" + next((t for t in tags if t.endswith("bit")), "")
    if gguf or re.fullmatch(r"i?q\d\w*|tq\d\w*", text):
        return "gguf" + text
    return text


def match_quant(label: str, refs: References, *, gguf: bool) -> Match:
    key = quant_key(label, gguf=gguf)
    for ref in refs.quants:
        if ref.slug == OTHER:
            continue
        keys = {squash(ref.slug), squash(f"{ref.family} {ref.name}"), *map(squash, ref.aliases)}
        if key in keys:
            return Match(ref.slug, label)
    return Match(OTHER, label)


def quant_from_name(raw: str) -> str | None:
    """The quant a file name or repository id names ("…-Q4_K_M.gguf" -> "Q4_K_M",
    "…-GPTQ-Int4" -> "GPTQ Int4"), or None."""
    _name, tags = strip_quant_tags(model_stem(raw))
    tags = [
        tag for tag in tags
        if tag.lower() not in ("ud", "gguf", "imat", "imatrix")
        and not re.fullmatch(r"\d{5}-of-\d{5}", tag)
    ]
    return " ".join(tags) or None


# --- runtimes ----------------------------------------------------------------------------


def match_runtime(raw: str, refs: References) -> Match:
    name = _VERSION_TAIL.sub("", raw.strip())
    key = squash(name)
    for ref in refs.runtimes:
        if ref.slug == OTHER:
            continue
        names = (ref.slug, ref.name, *ref.aliases, *KNOWN_RUNTIME_NAMES.get(ref.slug, ()))
        if key in {squash(n) for n in names}:
            return Match(ref.slug, raw.strip())
    return Match(OTHER, raw.strip())


# --- writing matches into a draft --------------------------------------------------------

_FIELDS = {
    "hardware": ("hardware", "other_hardware"),
    "model": ("model", "other_model"),
    "quant": ("quant", "other_quant"),
    "runtime": ("runtime", "other_runtime"),
}


def apply(draft: Draft, dimension: str, match: Match, source: str) -> None:
    """Fill `dimension` (and its "other" text, count and caveat) from a match."""
    slug_field, other_field = _FIELDS[dimension]
    draft.put(slug_field, match.slug, source)
    if not match.known:
        draft.put(other_field, match.raw, source)
        draft.unmapped[dimension] = match.raw
        draft.note(
            f"The {dimension} “{match.raw}” is not in the reference list: it was set to "
            "“Other” with the tool's name. Pick the right entry if it is listed under "
            "another name."
        )
    if dimension == "hardware":
        draft.put("hardware_count", match.count, source)
    if match.caveat:
        draft.note(match.caveat)


# --- the reproduce form's locked matching set --------------------------------------------

_TABLES = {"model": "models", "hardware": "hardware", "quant": "quants", "runtime": "runtimes"}
_DIMENSION_WORDS = {"model": "model", "hardware": "hardware", "quant": "quant",
                    "runtime": "engine"}


@dataclass(frozen=True)
class LockCheck:
    """The file against a hub's locked matching set: what contradicts it (the import is
    refused), and what the file does not name recognisably (the locked value stands)."""

    conflicts: tuple[str, ...] = ()
    unchecked: tuple[str, ...] = ()


def _name_key(dimension: str, raw: str) -> str:
    """A free-text name, normalised as the matchers read it, for comparing two of them."""
    if dimension == "model":
        return squash(strip_quant_tags(model_stem(raw))[0])
    if dimension == "hardware":
        return gpu_key(raw)
    if dimension == "quant":
        return quant_key(raw, gguf=False)
    return squash(_VERSION_TAIL.sub("", raw.strip()))


def _resolve(dimension: str, raw: str, refs: References) -> str:
    if dimension == "model":  # "llama3.1:8b", kept by an earlier import, is not the base 8B
        return ollama_library_model(raw) or match_model(raw, refs).slug
    if dimension == "hardware":
        return match_hardware(raw, refs).slug
    if dimension == "quant":
        return match_quant(raw, refs, gguf=False).slug
    return match_runtime(raw, refs).slug


def _same(dimension: str, a: str, b: str, refs: References) -> bool:
    """Two reference slugs agree: runtimes by engine family, the rest by slug."""
    if dimension != "runtime":
        return a == b
    mine, theirs = refs.runtime(a), refs.runtime(b)
    return bool(mine and theirs and mine.engine_family == theirs.engine_family)


def _agrees(dimension: str, found: tuple[str, str], locked: tuple[str, str],
            refs: References) -> bool | None:
    """True or False when the file's value and the hub's can be compared, None when one
    of them is a name no reference entry matches (or an "other" without a name).
    Each side is (slug, other-name)."""
    (found_slug, found_name), (locked_slug, locked_name) = found, locked
    if found_slug != OTHER and locked_slug != OTHER:
        return _same(dimension, found_slug, locked_slug, refs)
    if found_slug == OTHER and locked_slug == OTHER:
        if not (found_name and locked_name):
            return None
        return _name_key(dimension, found_name) == _name_key(dimension, locked_name)
    if found_slug == OTHER:  # a name the parser could not place is not another entry
        return None
    if not locked_name:
        return None
    # the file names a reference entry; the hub a name outside the list
    resolved = _resolve(dimension, locked_name, refs)
    return resolved != OTHER and _same(dimension, found_slug, resolved, refs)


def check_locked(
    intake: Intake,
    *,
    model: str,
    hardware: str,
    hardware_count: int,
    quant: str,
    runtime: str,
    references: References,
    other_model: str | None = None,
    other_hardware: str | None = None,
    other_quant: str | None = None,
    other_runtime: str | None = None,
) -> LockCheck:
    """The file against a hub's locked matching set (slugs, their "other" names, count).
    Only a value recognised as another entry, or two "other" names that differ, is a
    conflict; a name the site cannot place is unchecked. Runtimes compare by engine
    family; a CPU-only run never reproduces a GPU benchmark, nor the converse."""
    values = intake.values
    locked = {"model": (model, other_model or ""), "hardware": (hardware, other_hardware or ""),
              "quant": (quant, other_quant or ""), "runtime": (runtime, other_runtime or "")}

    def shown(dimension: str, side: tuple[str, str]) -> str:
        slug, name = side
        if slug == OTHER and name:
            return f"“{name}”"
        table = getattr(references, _TABLES[dimension])
        return next((ref.name for ref in table if ref.slug == slug), slug)

    problems: list[str] = []
    unchecked: list[str] = []
    device_problem = _device_conflict(intake, hardware, references, shown)
    if device_problem:
        problems.append(device_problem)
    for dimension in ("model", "hardware", "quant", "runtime"):
        if not values.get(dimension) or (dimension == "hardware" and device_problem):
            continue
        found = (values[dimension], values.get(f"other_{dimension}", ""))
        verdict = _agrees(dimension, found, locked[dimension], references)
        word = _DIMENSION_WORDS[dimension]
        theirs, mine = shown(dimension, found), shown(dimension, locked[dimension])
        if verdict is None:
            unchecked.append(
                f"The file's {word} ({theirs}) could not be checked against this benchmark's "
                f"({mine}): the site does not recognise one of the names. The benchmark's "
                f"{word} stands; make sure your run used it."
            )
        elif not verdict and dimension == "runtime" and locked["runtime"][0] != OTHER:
            family = references.runtime(runtime)
            problems.append(
                f"The file's engine is {theirs}; this benchmark needs the "
                f"{family.engine_family if family else runtime} engine family."
            )
        elif not verdict:
            problems.append(f"The file's {word} is {theirs}; this benchmark's is {mine}.")
        elif dimension == "hardware":
            count = values.get("hardware_count")
            if count and int(count) != hardware_count:
                problems.append(
                    f"The file ran on {count} device{'s' if count != '1' else ''}; this "
                    f"benchmark ran on {hardware_count}."
                )
    return LockCheck(tuple(problems), tuple(unchecked))


def _device_conflict(intake: Intake, hardware: str, refs: References, shown) -> str | None:
    """A CPU-only run against a GPU benchmark, or a GPU run against a CPU one."""
    kinds = {ref.slug: ref.kind for ref in refs.hardware}
    hub_kind = kinds.get(hardware, "")
    found = intake.values.get("hardware", "")
    device = intake.device or {"gpu": "gpu", "unified": "gpu", "cpu": "cpu"}.get(
        kinds.get(found, ""))
    hub = shown("hardware", (hardware, ""))
    if device == "cpu" and hub_kind == "gpu":
        return (f"The file ran on the CPU only (no model layers on a GPU); this benchmark "
                f"ran on the {hub} GPU.")
    if device == "gpu" and hub_kind == "cpu":
        gpu = shown("hardware", (found, intake.values.get("other_hardware", "")))
        return f"The file ran on a GPU ({gpu}); this benchmark ran on the CPU ({hub})."
    return None
