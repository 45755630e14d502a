"""Runtime version strings, read and ordered: which of two runs used the newer runtime
(SPEC §6, factor 5, runtime drift).

Versions order as PEP 440 and SemVer agree: pre-releases (dev, alpha, beta, rc) before
their release, post-releases after it, so "0.6.0-rc1" < "0.6.0" < "0.6.0.post1". What
cannot be read with confidence is "not comparable" (None), and never counts as newer.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache

# Letters glued to the front of the number name the numbering scheme: llama.cpp's 'b4500'
# builds are not comparable with Ollama's '0.5.7' releases, though both are one engine
# family. After the number, an optional pre-release, post-release and dev part, each with
# or without a separator; one-letter spellings (a1, b1, c1, r1) only with their number,
# since '1.1.1a' is a release after 1.1.1 in some schemes (OpenSSL's) and an alpha in PEP
# 440's. A bare '-1' (PEP 440's implicit post-release, also a packager's revision or a
# build number) is not read as anything.
_SEP = r"[-._]?"
_VERSION = re.compile(
    r"(?P<scheme>[a-z]*)(?P<release>\d+(?:\.\d+)*)"
    rf"(?:{_SEP}(?P<pre>alpha|beta|preview|pre|rc|a(?=\d)|b(?=\d)|c(?=\d))(?![a-z])"
    rf"(?:{_SEP}(?P<pre_n>\d+))?)?"
    rf"(?:{_SEP}(?P<post>post|rev|r(?=\d))(?![a-z])(?:{_SEP}(?P<post_n>\d+))?)?"
    rf"(?:{_SEP}(?P<dev>dev)(?![a-z])(?:{_SEP}(?P<dev_n>\d+))?)?"
)
_NO_SCHEME = frozenset({"", "v", "version", "ver"})
_PRE_RANKS = {"alpha": 0, "a": 0, "beta": 1, "b": 1, "rc": 2, "c": 2, "pre": 2, "preview": 2}
# Where a release without a pre-release part sorts among its pre-releases: after them all;
# a dev release of the release itself ('1.0.dev1') before them all.
_FINAL = max(_PRE_RANKS.values()) + 1
_DEV_OF_RELEASE = -1
# More glued on after what was read ('0.6.0-nightly', '0.6.0-1', '1.1.1a'): a suffix this
# reader does not know. Text after a space or in brackets is a note ('b4600 (cuda)'), and
# '+…' is SemVer's build metadata or PEP 440's local label: neither orders versions.
_UNREAD = re.compile(r"[-._~]?[a-z0-9][^\s+()\[\],;]*")


@dataclass(frozen=True)
class Version:
    scheme: str
    release: tuple[int, ...]
    order: tuple[int, ...]  # (pre-release rank, its number, post number, dev number)
    unread: str  # the suffix not understood, '' when the whole version was read


@lru_cache(maxsize=4096)  # the same few hundred version strings on every assessment
def parse_version(text: str | None) -> Version | None:
    """The version in `text` ('ollama 0.5.8', 'v0.6.0-rc.1', 'b4500'), None when there is
    no number in it."""
    if not text:
        return None
    lowered = text.strip().casefold()
    found = _VERSION.search(lowered)
    if found is None:
        return None
    scheme = "" if found["scheme"] in _NO_SCHEME else found["scheme"]
    numbers = [int(part) for part in found["release"].split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    pre, post, dev = found["pre"], found["post"], found["dev"]
    if pre is not None:
        pre_rank, pre_number = _PRE_RANKS[pre], int(found["pre_n"] or 0)
    elif post is None and dev is not None:
        pre_rank, pre_number = _DEV_OF_RELEASE, 0
    else:
        pre_rank, pre_number = _FINAL, 0
    post_number = -1 if post is None else int(found["post_n"] or 0)
    dev_number = sys.maxsize if dev is None else int(found["dev_n"] or 0)
    unread = _UNREAD.match(lowered, found.end())
    return Version(scheme, tuple(numbers), (pre_rank, pre_number, post_number, dev_number),
                   unread.group() if unread else "")


def compare_versions(a: str | None, b: str | None) -> int | None:
    """-1, 0 or 1 as version `a` is older than, equal to or newer than `b`.

    None when either cannot be read as a version, the two use different schemes, or their
    release numbers are equal and a suffix that would decide between them is not
    understood ('0.6.0-nightly' against '0.6.0').
    """
    left, right = parse_version(a), parse_version(b)
    if left is None or right is None or left.scheme != right.scheme:
        return None
    if left.release != right.release:
        return (left.release > right.release) - (left.release < right.release)
    if left.unread != right.unread:
        return None
    return (left.order > right.order) - (left.order < right.order)
