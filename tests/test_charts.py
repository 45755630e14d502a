"""The charts drawn from the physics, read back from the served SVG: the hardware page's
decode-against-bytes scatter, the model page's decode by hardware, the detail page's
divergence strip."""

from __future__ import annotations

import re

import pytest

from tests.test_public_pages import parse
from webapp.services import charts, evidence, evidence_charts, scatter_chart
from webapp.services.rules import Badge, Kind, Ring, State

SVG = "{http://www.w3.org/2000/svg}"
RTX_4090_GBPS = 1008.0
LLAMA_8B_Q4_GB = 8.03 * 4.8944 / 8  # active parameters (billions) × bits per weight ÷ 8
CEILING_1X = RTX_4090_GBPS / LLAMA_8B_Q4_GB  # about 205 tok/s


def index(session, hub) -> None:
    """The hub's stored index (badge, tier) from its evidence, as a decision leaves it."""
    reproductions = evidence.load_reproductions(session, [hub.id]).get(hub.id, [])
    for name, value in evidence.derived_values(hub, reproductions).items():
        setattr(hub, name, value)


def publish(session, make_row, **columns):
    row = make_row(**columns)
    index(session, row)
    session.commit()
    return row


def reproduce(session, make_row, hub, *, handle, state=State.REPRODUCED, **columns):
    repro = make_row(kind=Kind.REPRODUCTION, state=state, hub=hub, handle=handle, **columns)
    index(session, hub)
    session.commit()
    return repro


def runs(decode: float, ttft: float = 250.0):
    return ((ttft, 512, decode),) * 3


def chart_svg(document, title_id: str):
    """The <svg> labelled by `title_id`, with its title and description checked."""
    for svg in document.iter(f"{SVG}svg"):
        labelled = (svg.get("aria-labelledby") or "").split()
        if title_id in labelled:
            assert svg.get("role") == "img"
            ids = {el.get("id"): el for el in svg.iter() if el.get("id")}
            for label_id in labelled:
                assert (ids[label_id].text or "").strip(), f"{label_id} is empty"
            return svg
    raise AssertionError(f"no chart labelled by {title_id}")


def line_y(line, x: float) -> float:
    x1, y1, x2, y2 = (float(line.get(a)) for a in ("x1", "y1", "x2", "y2"))
    return y1 + (x - x1) * (y2 - y1) / (x2 - x1)


def text_of(element) -> str:
    return "".join(element.itertext())


# --- the hardware page --------------------------------------------------------------------


def test_hardware_scatter_draws_each_row_against_its_ceiling(client, session, make_row):
    below = publish(session, make_row, runs=runs(100.0))
    above = publish(session, make_row, runs=runs(300.0))  # 1.46× the 1-device ceiling
    publish(session, make_row, quant="gguf-q8_0", hardware_count=2, tensor_parallel=True,
            runs=runs(150.0))
    response = client.get("/hardware/rtx-4090")
    assert response.status_code == 200
    document = parse(response.data)
    svg = chart_svg(document, "scatter-title")
    assert "3 rows drawn as 3 dots; 1 flagged above" in text_of(svg)

    lines = {int(line.get("data-devices")): line
             for line in svg.iter(f"{SVG}line") if line.get("data-devices")}
    assert set(lines) == {1, 2}, "a ceiling for one device and for the 2-device rows"
    dots = [path for path in svg.iter(f"{SVG}path") if "chart-dot" in (path.get("class") or "")]
    assert len(dots) == 3
    by_speed = {}
    for dot in dots:
        speed = float(re.search(r"([\d.,]+) tok/s", text_of(dot)).group(1).replace(",", ""))
        by_speed[speed] = dot
    one = lines[1]
    for speed, is_above in ((100.0, False), (300.0, True)):
        dot = by_speed[speed]
        x, y = float(dot.get("data-x")), float(dot.get("data-y"))
        # SVG y grows downwards: above the line is a smaller y
        assert (y < line_y(one, x)) is is_above
        assert ("is-above" in dot.get("class")) is is_above
    # the dot above its ceiling, and only it, is ringed by a halo on its centre
    halos = [c for c in svg.iter(f"{SVG}circle") if "chart-halo" in (c.get("class") or "")]
    assert [(h.get("cx"), h.get("cy")) for h in halos] == [
        (by_speed[300.0].get("data-x"), by_speed[300.0].get("data-y"))]
    # the same bytes per token sit on one vertical, the faster row higher
    assert by_speed[100.0].get("data-x") == by_speed[300.0].get("data-x")
    assert float(by_speed[300.0].get("data-y")) < float(by_speed[100.0].get("data-y"))
    # a 2-device tensor-parallel row is judged against the summed line, and is below it
    dot = by_speed[150.0]
    assert float(dot.get("data-y")) > line_y(lines[2], float(dot.get("data-x")))
    assert "is-above" not in dot.get("class")
    # the alternative: a table by configuration, with the row above counted
    table = next(d for d in document.iter("details") if "chart-data" in d.get("class", ""))
    cells = [text_of(tr) for tr in table.iter("tr")]
    assert any("GGUF Q4_K_M · 1×" in row and "205" in row for row in cells)
    assert below.id and above.id


def test_the_charts_flag_a_row_as_its_own_page_does(client, session, make_row):
    """SPEC §7: over 1.10× the ceiling, declaring no speculative decoding, batching or
    tensor parallelism. A row 1.05× its ceiling and a speculative one at 1.46× have no
    flag on their pages, and none on the hardware scatter or the model's bars."""
    near = publish(session, make_row, runs=runs(215.0))  # 1.05× the 1-device ceiling
    speculative = publish(session, make_row, runs=runs(300.0), speculative=True)
    for row in (near, speculative):
        assert client.get(f"/api/v1/benchmarks/{row.id}").get_json()["ceiling"]["flags"] == []
    svg = chart_svg(parse(client.get("/hardware/rtx-4090").data), "scatter-title")
    assert "2 rows drawn as 2 dots; 0 flagged above" in text_of(svg)
    assert not [c for c in svg.iter(f"{SVG}circle") if "chart-halo" in (c.get("class") or "")]
    model_page = client.get("/models/llama-3.1-8b-instruct").get_data(as_text=True)
    assert "above the ceiling</span>" not in model_page and "is-above" not in model_page

    flagged = publish(session, make_row, runs=runs(300.0))  # the same speed, undeclared
    assert [flag["code"] for flag in client.get(
        f"/api/v1/benchmarks/{flagged.id}").get_json()["ceiling"]["flags"]] == [
        "exceeds-ceiling"]
    svg = chart_svg(parse(client.get("/hardware/rtx-4090").data), "scatter-title")
    assert "3 rows drawn as 3 dots; 1 flagged above" in text_of(svg)


def test_hardware_scatter_colours_by_badge_with_shapes_and_a_legend(client, session,
                                                                   make_row):
    hub = publish(session, make_row, runs=runs(100.0))
    reproduce(session, make_row, hub, handle="second-operator", runs=runs(101.0))
    publish(session, make_row, kind=Kind.EDITORIAL, runs=runs(150.0))
    document = parse(client.get("/hardware/rtx-4090").data)
    svg = chart_svg(document, "scatter-title")
    classes = {path.get("class") for path in svg.iter(f"{SVG}path")
               if "chart-dot" in (path.get("class") or "")}
    assert classes == {"chart-dot dot-reproduced", "chart-dot dot-editorial"}
    legend = next(ul for ul in document.iter("ul") if "chart-legend" in ul.get("class", ""))
    words = text_of(legend)
    assert Badge.REPRODUCED.label in words and Badge.EDITORIAL.label in words
    # not colour alone: each badge has its own shape
    shapes = {path.get("data-shape") for path in svg.iter(f"{SVG}path") if path.get("data-shape")}
    assert shapes == {charts.BADGE_SHAPES[Badge.REPRODUCED], charts.BADGE_SHAPES[Badge.EDITORIAL]}
    assert len(shapes) == 2


def test_hardware_scatter_merges_rows_on_one_spot_and_says_so(client, session, make_row):
    for _ in range(5):
        publish(session, make_row, runs=runs(120.0))
    publish(session, make_row, runs=runs(60.0))
    document = parse(client.get("/hardware/rtx-4090").data)
    svg = chart_svg(document, "scatter-title")
    desc = text_of(next(svg.iter(f"{SVG}desc")))
    assert "6 rows drawn as 2 dots" in desc
    counts = sorted(int(path.get("data-count")) for path in svg.iter(f"{SVG}path")
                    if path.get("data-count"))
    assert counts == [1, 5]


def test_hardware_scatter_leaves_out_hidden_rows(client, session, make_row):
    publish(session, make_row, runs=runs(100.0))
    for state in (State.QUEUED, State.REJECTED, State.WITHDRAWN):
        make_row(state=state, runs=runs(999.0))
    session.commit()
    body = client.get("/hardware/rtx-4090").data.decode()
    assert "1 row drawn as 1 dot" in body
    assert "999" not in body


def test_hardware_without_rows_says_so(client):
    response = client.get("/hardware/rtx-3090")
    assert response.status_code == 200
    body = response.data.decode()
    assert 'aria-labelledby="scatter-title' not in body
    assert "nothing to draw" in body


def test_scatter_text_is_escaped(client, session, make_row):
    publish(session, make_row, runs=runs(100.0), handle="<script>x</script>")
    body = client.get("/hardware/rtx-4090").data.decode()
    assert "<script>x" not in body



def test_typed_names_stay_escaped_in_the_charts(client, session, make_row):
    """The charts write their own numbers without escaping; anything a submitter typed
    (an "other" hardware, quant or runtime name) is still escaped, on both pages."""
    typed = "<img src=x onerror=alert(1)>"
    publish(session, make_row, hardware="other", other_hardware=typed, runs=runs(90.0))
    publish(session, make_row, quant="other", other_quant=typed, runs=runs(95.0))
    publish(session, make_row, runtime="other", other_runtime=typed, runs=runs(97.0))
    plain = publish(session, make_row, runs=runs(100.0))
    shown = 0
    for path in (f"/models/{plain.model.slug}", "/hardware/rtx-4090", "/hardware/other"):
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.data.decode()
        parse(response.data)
        assert "<img src=x" not in body, path
        shown += body.count("&lt;img src=x onerror=alert(1)&gt;")
    assert shown

# --- the model page -------------------------------------------------------------------------


def test_model_bars_one_per_hardware_and_count_with_the_ceiling(client, session, make_row):
    for decode in (100.0, 110.0, 300.0):
        publish(session, make_row, runs=runs(decode))  # median 110
    publish(session, make_row, hardware="rtx-3090", runs=runs(80.0))
    publish(session, make_row, hardware="rtx-3090", hardware_count=2, runs=runs(90.0))
    document = parse(client.get("/models/llama-3.1-8b-instruct").data)
    svg = chart_svg(document, "bars-title")
    rows = [g for g in svg.iter(f"{SVG}g") if "chart-bar-row" in (g.get("class") or "")]
    labels = [text_of(next(g.iter(f"{SVG}text"))) for g in rows]
    assert [label.split(" (")[0] for label in labels] == [
        "1× GeForce RTX 4090", "2× GeForce RTX 3090", "1× GeForce RTX 3090"]
    first = rows[0]
    bar = next(first.iter(f"{SVG}rect"))
    assert float(bar.get("data-median")) == 110.0
    mark = next(p for p in first.iter(f"{SVG}path") if p.get("data-ceiling"))
    assert float(mark.get("data-ceiling")) == pytest.approx(CEILING_1X)
    # the bar ends before its ceiling mark: 110 tok/s under a ~205 tok/s ceiling
    bar_end = float(bar.get("x")) + float(bar.get("width"))
    assert bar_end < float(mark.get("d").split()[0][1:])
    # a layer split of two 3090s has one device's ceiling
    two = rows[1]
    two_mark = next(p for p in two.iter(f"{SVG}path") if p.get("data-ceiling"))
    assert float(two_mark.get("data-ceiling")) == pytest.approx(936.0 / LLAMA_8B_Q4_GB)
    table = next(d for d in document.iter("details") if "chart-data" in d.get("class", ""))
    assert "GGUF Q4_K_M, layer split" in text_of(table)


def test_model_bar_above_its_ceiling_says_so(client, session, make_row):
    publish(session, make_row, runs=runs(400.0))
    document = parse(client.get("/models/llama-3.1-8b-instruct").data)
    svg = chart_svg(document, "bars-title")
    row = next(g for g in svg.iter(f"{SVG}g") if "chart-bar-row" in (g.get("class") or ""))
    assert "is-above" in row.get("class")
    assert "above the ceiling" in text_of(row)  # in words, not colour alone
    bar = next(row.iter(f"{SVG}rect"))
    mark = next(p for p in row.iter(f"{SVG}path") if p.get("data-ceiling"))
    assert float(bar.get("x")) + float(bar.get("width")) > float(mark.get("d").split()[0][1:])


def test_model_without_rows_says_so(client):
    body = client.get("/models/qwen2.5-7b-instruct").data.decode()
    assert "bars-title" not in body and "nothing to draw" in body


# --- the detail page's divergence strip --------------------------------------------------------


def test_divergence_strip_places_each_reproduction_and_shades_the_bands(client, session,
                                                                        make_row):
    hub = publish(session, make_row, runs=runs(100.0, ttft=200.0))
    inner = reproduce(session, make_row, hub, handle="inner-op", runs=runs(105.0, ttft=190.0))
    outer = reproduce(session, make_row, hub, handle="outer-op", os_label="Fedora 41",
                      runs=runs(92.0, ttft=210.0))
    noted = reproduce(session, make_row, hub, handle="noted-op",
                      runs=runs(80.0, ttft=240.0), notes="slower driver")
    document = parse(client.get(f"/benchmarks/{hub.id}").data)
    svg = chart_svg(document, "strip-title")
    desc = text_of(next(svg.iter(f"{SVG}desc")))
    assert "Inner ring: 1" in desc and "Outer ring: 1" in desc
    assert "Accepted with a note: 1" in desc

    axes = {g.get("data-metric"): g for g in svg.iter(f"{SVG}g") if g.get("data-metric")}
    assert set(axes) == {"Time to first token", "Decode speed"}
    decode = axes["Decode speed"]
    zero = next(line for line in decode.iter(f"{SVG}line")
                if "strip-zero" in (line.get("class") or ""))
    zero_x = float(zero.get("x1"))
    bands = {rect.get("class"): rect for rect in decode.iter(f"{SVG}rect")}
    within, related = bands["strip-band-within"], bands["strip-band-related"]
    within_span = (float(within.get("x")), float(within.get("x")) + float(within.get("width")))
    related_span = (float(related.get("x")),
                    float(related.get("x")) + float(related.get("width")))
    # both bands are centred on the hub, the related band 2.5× as wide as the tolerance one
    assert sum(within_span) / 2 == pytest.approx(zero_x, abs=0.2)
    assert (related_span[1] - related_span[0]) == pytest.approx(
        2.5 * (within_span[1] - within_span[0]), abs=0.3)

    dots = {}
    for path in decode.iter(f"{SVG}path"):
        if "strip-dot" in (path.get("class") or ""):
            number = int(re.search(r"#(\d+)", text_of(path)).group(1))
            dots[number] = path
    assert set(dots) == {inner.id, outer.id, noted.id}
    x_of = {n: float(p.get("data-x")) for n, p in dots.items()}
    assert within_span[0] < x_of[inner.id] < within_span[1] and x_of[inner.id] > zero_x
    assert within_span[0] < x_of[outer.id] < within_span[1] and x_of[outer.id] < zero_x
    assert related_span[0] < x_of[noted.id] < within_span[0]  # −20%: outside tolerance
    # the ring is told by shape and class as well as colour
    assert "ring-inner" in dots[inner.id].get("class")
    assert "ring-outer" in dots[outer.id].get("class")
    assert "ring-noted" in dots[noted.id].get("class")
    shapes = {dots[n].get("data-shape") for n in dots}
    assert shapes == {"circle", "square", "triangle"}
    assert dots[inner.id].get("d") != dots[outer.id].get("d")
    legend = text_of(next(f for f in document.iter("figure") if "chart-strip" in f.get("class")))
    assert Ring.INNER.label in legend and Ring.OUTER.label in legend
    table = next(d for d in document.iter("details") if "chart-data" in d.get("class", ""))
    assert "+5.0%" in text_of(table) and "−" not in text_of(table).split("Decode")[0]


def test_no_strip_without_accepted_reproductions(client, session, make_row):
    hub = publish(session, make_row)
    reproduce(session, make_row, hub, handle="queued-op", state=State.QUEUED)
    body = client.get(f"/benchmarks/{hub.id}").data.decode()
    assert "strip-title" not in body


# --- the geometry, without the pages ---------------------------------------------------------


def test_log_scale_ticks_are_inside_and_ordered():
    scale = charts.LogScale(3.0, 400.0, 0.0, 100.0)
    ticks = scale.ticks()
    assert len(ticks) >= 3
    positions = [tick.pos for tick in ticks]
    assert positions == sorted(positions) and positions[0] >= 0 and positions[-1] <= 100


def test_ceiling_line_is_clipped_to_the_plot():
    series = [scatter_chart.Series(5.0, Badge.COMMUNITY, 200.0, [100.0, 300.0])]
    drawn = scatter_chart.scatter(series, 1000.0, [1, 4])
    assert drawn is not None and drawn.rows == 2 and drawn.above == 1
    for line in drawn.lines:
        for x, y in ((line.x1, line.y1), (line.x2, line.y2)):
            assert drawn.left - 0.1 <= x <= drawn.right + 0.1
            assert drawn.top - 0.1 <= y <= drawn.bottom + 0.1


def test_no_chart_from_no_points():
    assert scatter_chart.scatter([], 1000.0, [1]) is None
    assert charts.bars([]) is None
    assert evidence_charts.strip([]) is None


def test_a_kept_chart_follows_every_public_change(client, session, make_row):
    hub = publish(session, make_row, runs=runs(100.0))
    assert "1 row drawn as 1 dot" in client.get("/hardware/rtx-4090").data.decode()
    publish(session, make_row, runs=runs(40.0))
    assert "2 rows drawn as 2 dots" in client.get("/hardware/rtx-4090").data.decode()
    # a decision that only moves a badge is a public change too
    reproduce(session, make_row, hub, handle="later-op", runs=runs(101.0))
    body = client.get("/hardware/rtx-4090").data.decode()
    assert 'class="chart-dot dot-reproduced' in body
    make_row(state=State.QUEUED, runs=runs(70.0))  # not public: the kept chart stands
    session.commit()
    assert "2 rows drawn as 2 dots" in client.get("/hardware/rtx-4090").data.decode()


def test_ceiling_labels_that_would_overprint_are_set_apart():
    """Two ceiling lines leaving the plot's top edge close together put their labels on
    one spot ("ceiling, 1 deviceceiling, 2 devices"): the second goes below the first."""
    series = [scatter_chart.Series(gb, Badge.COMMUNITY, None, [speed])
              for gb, speed in ((1.0, 50.0), (16.0, 60.0))]  # both labels at the right
    drawn = scatter_chart.scatter(series, 1008.0, [1, 2])
    one, two = sorted(drawn.lines, key=lambda line: line.devices)
    assert (abs(one.label_x - two.label_x) >= 160
            or abs(one.label_y - two.label_y) >= 14), (one, two)
