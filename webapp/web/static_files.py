"""Static files under content-hashed names, cached by browsers for a year.

Templates keep writing `url_for('static', filename='site.css')`; a url_defaults hook
turns the name into `site.<hash>.css`, where the hash is the first 12 hex digits of the
file's sha256, computed once per process when the app is created. The static view maps a
hashed name back to its file and sends it with `Cache-Control: public, max-age=31536000,
immutable`: a changed file gets a new name, so a kept copy is never stale. An old hash
(a page from before a deploy) is redirected to the current name; the plain, unhashed URL
keeps working and says `no-cache` (a browser revalidates it by its ETag).

The files are small (about 100 KiB together) and are kept in memory with their hashes,
so a later edit on disk shows after a restart, when the hashes are computed again. The
development server (debug) skips all of this and serves the files as they are on disk.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, abort, current_app, redirect, request, url_for

HASH_LENGTH = 12
_HASHED = re.compile(
    r"^(?P<stem>.+)\.(?P<hash>[0-9a-f]{" + str(HASH_LENGTH) + r"})(?P<suffix>\.[^./]+)$")
EXTENSION = "static_hashes"


@dataclass(frozen=True, slots=True)
class StaticFile:
    hashed: str  # 'vendor/htmx-2.0.11.min.<hash>.js'
    digest: str
    data: bytes
    mimetype: str


def init_app(app: Flask) -> None:
    if app.debug:
        return
    folder = Path(app.static_folder or "")
    app.extensions[EXTENSION] = _files(folder)
    app.url_defaults(_hashed_filename)
    app.view_functions["static"] = static


def _files(folder: Path) -> dict[str, StaticFile]:
    files = {}
    if not folder.is_dir():
        return files
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or not path.suffix:
            continue
        name = path.relative_to(folder).as_posix()
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()[:HASH_LENGTH]
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        files[name] = StaticFile(f"{name[: -len(path.suffix)]}.{digest}{path.suffix}",
                                 digest, data, mimetype)
    return files


def hashed_name(filename: str) -> str:
    found = current_app.extensions[EXTENSION].get(filename)
    return filename if found is None else found.hashed


def _hashed_filename(endpoint: str, values: dict) -> None:
    if endpoint == "static" and isinstance(values.get("filename"), str):
        values["filename"] = hashed_name(values["filename"])


def _send(found: StaticFile) -> Response:
    response = Response(found.data, mimetype=found.mimetype)
    response.set_etag(found.digest)
    return response


def static(filename: str) -> Response:
    """Serve a static file by its hashed name (immutable) or its plain name (no-cache)."""
    files = current_app.extensions[EXTENSION]
    plain = files.get(filename)
    if plain is not None:
        response = _send(plain)
        response.cache_control.public = True
        response.cache_control.no_cache = True
        return response.make_conditional(request)
    found = _HASHED.match(filename)
    current = files.get(f"{found['stem']}{found['suffix']}") if found else None
    if current is None:
        abort(404)
    if current.hashed != filename:
        # A page from before the file changed: send it to the file as it is now.
        response = redirect(url_for("static", filename=f"{found['stem']}{found['suffix']}"))
        response.headers["Cache-Control"] = "no-cache"
        return response
    response = _send(current)
    response.cache_control.public = True
    response.cache_control.max_age = int(current_app.config["STATIC_HASHED_MAX_AGE"])
    response.cache_control.immutable = True
    return response.make_conditional(request)
