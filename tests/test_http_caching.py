"""HTTP done right (issue 14): compression, ETags and 304s on shared pages, canonical
page-store keys, content-hashed static files, and HEAD as GET without the body."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest
from sqlalchemy import update

from webapp.blueprints import public
from webapp.models import Submission, utcnow
from webapp.services import moderation
from webapp.services.rules import State
from webapp.web import page_cache


@pytest.fixture
def hub(make_row, session):
    row = make_row(os_label="Ubuntu 24.04 before")
    session.commit()
    return row


def behind_the_apps_back(session, row_id: int, os_label: str) -> None:
    session.execute(update(Submission).where(Submission.id == row_id).values(os_label=os_label))
    session.commit()


# --- compression ---------------------------------------------------------------------


@pytest.mark.parametrize(("accept", "encoding", "store_seconds"), [
    ("gzip", "gzip", 60),
    ("gzip, br", "gzip", 60),  # the store keeps pages gzipped and sends them as they are
    ("br", "br", 60),
    ("gzip, br", "br", 0),
])
def test_pages_are_compressed_for_clients_that_ask(app, client, hub, accept, encoding,
                                                   store_seconds):
    app.config["PAGE_CACHE_SECONDS"] = store_seconds
    plain = client.get("/")
    for _ in range(2):  # rendered anew, then (store on) from the store
        packed = client.get("/", headers={"Accept-Encoding": accept})
        assert packed.headers["Content-Encoding"] == encoding
    assert packed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed.headers["Vary"]
    raw = packed.get_data()
    body = gzip.decompress(raw) if encoding == "gzip" else brotli.decompress(raw)
    assert body == plain.get_data()
    assert int(packed.headers["Content-Length"]) == len(raw) < len(body) / 3
    assert "Content-Encoding" not in plain.headers


@pytest.mark.parametrize(("accept", "encoding"), [
    ("gzip;q=0", None), ("deflate;q=0", None), ("*;q=0", None), ("gzip;q=0, br", "br"),
    ("br;q=0, gzip", "gzip"), ("br;q=0.5, gzip;q=0.8", "gzip"),
])
@pytest.mark.parametrize("store_seconds", [0, 60])
@pytest.mark.parametrize("path", ["/", "/api/v1/openapi.json", "/benchmarks.csv"])
def test_a_coding_the_client_refuses_is_never_used(app, client, hub, accept, encoding,
                                                   store_seconds, path):
    """q=0 refuses a coding (RFC 9110 12.5.3); Flask-Compress used it when nothing else
    was offered, on pages, the API and the streamed exports (gzip only) alike."""
    app.config["PAGE_CACHE_SECONDS"] = store_seconds
    plain = client.get(path)
    expected = None if path == "/benchmarks.csv" and encoding == "br" else encoding
    for _ in range(2):  # rendered anew, then (store on) from the store
        response = client.get(path, headers={"Accept-Encoding": accept})
        body = response.get_data()
        response.close()
        sent = response.headers.get("Content-Encoding")
        assert sent == expected or (sent is not None and sent in accept and
                                    f"{sent};q=0," not in f"{accept},")
    if expected is None:
        assert body == plain.get_data()
    plain.close()


def test_tiny_bodies_are_sent_as_they_are(client):
    response = client.get("/healthz", headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert response.get_json()["status"] == "ok"


# --- ETag and 304 --------------------------------------------------------------------


def test_a_shared_page_revalidates_with_a_weak_etag_and_a_304_renders_nothing(
    client, hub, monkeypatch
):
    url = f"/benchmarks/{hub.id}"
    first = client.get(url, headers={"Accept-Encoding": "br"})
    etag = first.headers["ETag"]
    assert etag.startswith('W/"'), "weak: the gzip and brotli bodies share it"
    assert first.headers["Cache-Control"] == "no-cache"
    assert client.get(url, headers={"Accept-Encoding": "gzip"}).headers["ETag"] == etag

    def no_render(*args, **kwargs):
        raise AssertionError("a 304 must not render the page")

    monkeypatch.setattr(public, "benchmark_detail", no_render)
    again = client.get(url, headers={"If-None-Match": etag, "Accept-Encoding": "gzip"})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag


@pytest.mark.parametrize("url", ["/benchmarks/999999", "/hardware/no-such-card",
                                 "/models/no-such-model", "/resources/no-such-page",
                                 "/compare?ids=1"])
def test_if_none_match_star_never_turns_a_missing_page_into_a_304(client, url):
    """RFC 9110: "*" matches a current representation only; a page that does not exist
    answers as it would without the header (it was a 304 before the view ran)."""
    plain = client.get(url).status_code
    assert plain in (400, 404)
    assert client.get(url, headers={"If-None-Match": "*"}).status_code == plain


def test_if_none_match_star_on_a_page_that_exists_is_a_304(app, client, hub):
    url = f"/benchmarks/{hub.id}"
    etag = client.get(url).headers["ETag"]
    for _ in range(2):  # rendered, then from the store
        again = client.get(url, headers={"If-None-Match": "*"})
        assert (again.status_code, again.headers["ETag"]) == (304, etag)


def test_a_page_served_over_https_has_its_own_etag_and_stored_copy(app, client, hub):
    """Behind a proxy that says HTTPS, a page's absolute links are https: one rendered
    for a plain-HTTP request (a health check) must not be served, or validated, for it."""
    app.config["TRUSTED_PROXY_COUNT"] = 1
    url = "/api"
    plain = client.get(url)
    secure = client.get(url, headers={"X-Forwarded-Proto": "https"})
    assert plain.headers["ETag"] != secure.headers["ETag"]
    assert "https://localhost/api/v1/" in secure.get_data(as_text=True)
    assert "http://localhost/api/v1/" not in secure.get_data(as_text=True)
    revalidated = client.get(url, headers={"X-Forwarded-Proto": "https",
                                           "If-None-Match": plain.headers["ETag"]})
    assert revalidated.status_code == 200


def test_a_decision_changes_the_etag(client, session, hub, make_row):
    url = f"/benchmarks/{hub.id}"
    etag = client.get(url).headers["ETag"]
    queued = make_row(state=State.QUEUED)
    session.commit()
    moderation.approve_public(session, queued, actor="reviewer:test", now=utcnow())
    session.commit()
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.headers["ETag"] != etag


def test_the_etag_moves_with_the_clock_that_ages_follow(client, hub, monkeypatch):
    url = f"/benchmarks/{hub.id}"
    etag = client.get(url).headers["ETag"]
    later = page_cache.time.time() + 3600
    monkeypatch.setattr(page_cache.time, "time", lambda: later)
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200


def test_page_and_fragment_have_their_own_etags(client, hub):
    page = client.get("/")
    fragment = client.get("/", headers={"HX-Request": "true"})
    assert page.headers["ETag"] != fragment.headers["ETag"]
    assert "HX-Request" in fragment.headers["Vary"]
    refetch = client.get("/", headers={"HX-Request": "true", "If-None-Match": page.headers["ETag"]})
    assert refetch.status_code == 200 and "<html" not in refetch.text
    # a history restore (or a boosted link) with HX-Request gets the whole page: the
    # responses vary on those headers too, whichever was asked for
    restore = client.get("/", headers={"HX-Request": "true",
                                       "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text
    for response in (page, fragment, restore):
        varies = {name.strip() for name in response.headers["Vary"].split(",")}
        assert {"HX-Request", "HX-Boosted", "HX-History-Restore-Request"} <= varies


def test_the_etag_works_with_the_store_switched_off(app, client, hub):
    app.config["PAGE_CACHE_SECONDS"] = 0
    etag = client.get("/").headers["ETag"]
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 304


def test_a_visitors_own_page_is_private_and_never_304(client, hub):
    url = f"/benchmarks/{hub.id}"
    etag = client.get(url).headers["ETag"]
    with client.session_transaction() as visitor:
        visitor["_flashes"] = [("success", "Your feedback was sent.")]
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert "Your feedback was sent." in response.text
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in response.headers


def test_form_pages_stay_private(client, hub):
    for url in ("/submit/benchmark", f"/benchmarks/{hub.id}/reproduce"):
        response = client.get(url)
        assert response.headers["Cache-Control"] == "private, no-store", url
        assert "ETag" not in response.headers


# --- canonical store keys ------------------------------------------------------------


def test_other_spellings_of_a_stored_page_are_redirected_every_time(app, client, hub):
    """Known parameters in another order, or empty ones, are the stored page's address
    spelt otherwise: they go to the view, which redirects them to its spelling, before
    and after that page is stored (a black-box audit saw a 301 first and the stored 200
    later), and the store keeps one entry."""
    first = "/?hardware=rtx-4090&quant=gguf-q4_k_m"
    store = app.extensions["page_cache"]
    for _ in range(2):
        for same in ("/?quant=gguf-q4_k_m&hardware=rtx-4090",
                     "/?hardware=rtx-4090&quant=gguf-q4_k_m&model=&badge=", "/?q="):
            response = client.get(same)
            assert response.status_code == 301, same
            assert response.headers["Location"] in (first, "/"), same
        assert client.get(first).status_code == 200
    assert len(store._entries) == 1


def test_unknown_parameters_are_served_but_never_stored(app, client, session, hub):
    url = f"/benchmarks/{hub.id}"
    store = app.extensions["page_cache"]
    client.get(url)
    stored = len(store._entries)
    for number in range(20):
        response = client.get(f"{url}?junk={number}")
        assert response.status_code == 200
        assert "ETag" not in response.headers
    assert len(store._entries) == stored, "junk query strings take no place in the store"
    behind_the_apps_back(session, hub.id, "Ubuntu 24.04 fresh")
    assert "Ubuntu 24.04 fresh" in client.get(f"{url}?junk=x").text, "rendered anew"
    assert "Ubuntu 24.04 before" in client.get(url).text, "the real page is still stored"


def test_a_flood_of_junk_cannot_evict_useful_pages(app, client, session, hub):
    app.extensions["page_cache"].max_entries = 4
    client.get("/")
    behind_the_apps_back(session, hub.id, "Ubuntu 24.04 behind")
    for number in range(30):
        client.get(f"/?utm={number}")
        client.get(f"/?page=x{number}")
        client.get(f"/?hardware=rtx-4090&hardware={number}")
    page = client.get("/").text
    assert "Ubuntu 24.04 behind" not in page


def test_junk_values_of_known_parameters_take_no_place_in_the_store(app, client, session, hub):
    """A filter value the catalog drops with a notice, and a page number past the last
    (shown as the last page), answer addresses that are not their page's own: served,
    never stored, so a flood of them cannot evict the pages visitors ask for."""
    store = app.extensions["page_cache"]
    for url in ("/", f"/benchmarks/{hub.id}", "/hardware/rtx-4090", "/operators"):
        client.get(url)
    stored = len(store._entries)
    for number in range(2, 12):
        for junk in (f"/?badge=gold{number}", f"/?stale=maybe{number}",
                     f"/?hardware=rtx-4090&page={number}", f"/?page={number}",
                     f"/benchmarks/{hub.id}?page={number}", f"/hardware/rtx-4090?page={number}",
                     f"/operators?page={number}"):
            response = client.get(junk)
            assert response.status_code == 200, junk
    assert len(store._entries) == stored
    behind_the_apps_back(session, hub.id, "Ubuntu 24.04 fresh")
    detail = f"/benchmarks/{hub.id}"
    assert "Ubuntu 24.04 fresh" in client.get(f"{detail}?page=7").text, "rendered anew"
    assert "Ubuntu 24.04 before" in client.get(detail).text, "the real page is still stored"


# --- static files --------------------------------------------------------------------


def test_pages_link_static_files_by_content_hash_cached_for_a_year(client, hub):
    page = client.get("/").text
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert any("/static/vendor/htmx-2.0.11.min." in link for link in links)
    assert len(links) >= 4
    for link in links:
        assert re.search(r"\.[0-9a-f]{12}\.[a-z]+$", link), link
        with client.get(link) as response:
            assert response.status_code == 200, link
            assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            # the same file for every visitor: a shared cache keeps one copy, not one a cookie
            assert "cookie" not in response.headers.get("Vary", "").lower(), link


def test_the_plain_name_keeps_working_and_revalidates(client):
    with client.get("/static/site.css") as response:
        assert response.status_code == 200
        assert "no-cache" in response.headers["Cache-Control"]
        assert "immutable" not in response.headers["Cache-Control"]


def test_an_old_hash_goes_to_the_current_file_and_a_missing_file_is_404(client):
    old = client.get("/static/site.0123456789ab.css")
    assert old.status_code == 302
    assert re.fullmatch(r"/static/site\.[0-9a-f]{12}\.css", old.headers["Location"].replace(
        "http://localhost", ""))
    assert client.get("/static/nothing.0123456789ab.css").status_code == 404
    assert client.get("/static/../webapp/config.py").status_code == 404


def test_static_css_is_compressed(client, hub):
    link = re.search(r'href="(/static/site\.[^"]+)"', client.get("/").text).group(1)
    with client.get(link, headers={"Accept-Encoding": "gzip"}) as packed, \
            client.get(link) as plain:
        assert packed.headers["Content-Encoding"] == "gzip"
        assert packed.headers["ETag"] != plain.headers["ETag"]


# --- HEAD -----------------------------------------------------------------------------


def public_urls(hub) -> list[str]:
    return ["/", "/?page=2", "/?hardware=rtx-4090&quant=gguf-q4_k_m", f"/benchmarks/{hub.id}",
            "/hardware/rtx-4090", "/models/llama-3.1-8b-instruct", "/operators",
            "/resources/verification-policy", "/static/site.css", "/healthz",
            "/no-such-page", f"/benchmarks/{hub.id}?junk=1"]


@pytest.mark.parametrize("encoding", ["", "gzip, br"])
def test_head_answers_the_headers_and_length_of_get(client, hub, encoding):
    for url in public_urls(hub):
        headers = {"Accept-Encoding": encoding} if encoding else {}
        client.get(url, headers=headers).close()  # stored, so GET and HEAD meet one state
        with client.get(url, headers=headers) as got, client.head(url, headers=headers) as head:
            assert head.status_code == got.status_code, url
            assert head.get_data() == b"", url
            assert dict(head.headers) == dict(got.headers), url
            assert int(head.headers["Content-Length"]) == len(got.get_data()), url


def test_a_streamed_export_keeps_streaming_gzipped(client, hub, make_row, session):
    for _ in range(20):
        make_row()
    session.commit()
    plain = client.get("/benchmarks.csv")
    packed = client.get("/benchmarks.csv", headers={"Accept-Encoding": "br, gzip"})
    assert plain.is_streamed and packed.is_streamed
    assert packed.headers["Content-Encoding"] == "gzip", "brotli would hold the first byte"
    assert "Content-Length" not in packed.headers
    assert gzip.decompress(packed.get_data()) == plain.get_data()


def test_the_api_page_is_a_shared_page_with_an_etag(client, hub):
    """/api lists the filters' slugs from the data: like every public page, it carries an
    ETag that moves with the data, and a matching If-None-Match gets a 304."""
    response = client.get("/api")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    etag = response.headers["ETag"]
    assert client.get("/api", headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize(("method", "path", "data", "status"), [
    ("get", "/no-such-page", None, 404),
    ("get", "/compare?ids=1", None, 400),
    ("post", "/submit/benchmark", {"runs-0-decode_tps": "abc"}, 422),
])
def test_error_pages_and_refused_forms_are_compressed_too(app, client, hub, method, path,
                                                          data, status):
    """An error page, or a form sent back with its errors (some 30 KiB), is as much a page:
    compressed for a client that asks, with the same status and body."""
    app.config["WTF_CSRF_ENABLED"] = False
    send = getattr(client, method)
    plain = send(path, data=data)
    packed = send(path, data=data, headers={"Accept-Encoding": "gzip, br"})
    assert plain.status_code == packed.status_code == status
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in packed.headers["Vary"]
    body = brotli.decompress(packed.get_data())
    assert len(packed.get_data()) < len(body) / 2
    assert body.decode().count("<h1") == plain.get_data(as_text=True).count("<h1") == 1
