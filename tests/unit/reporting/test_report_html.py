"""HTML building blocks: escaping, token colouring by advantage, the locked-down page."""

from __future__ import annotations

from synthetic_runs import ATTR, XSS

from simbench.reporting.html import Raw, advantage_colour, esc, fmt, fmt_interval, page, table, token_spans


def test_esc_neutralises_tags_and_attribute_breakouts():
    assert esc(XSS) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert esc(ATTR) == "&quot; onmouseover=&quot;x"
    assert esc("it's") == "it&#x27;s"


def test_table_escapes_cells_but_keeps_raw_fragments():
    html = table(["h" + XSS], [[XSS, Raw("<b>ok</b>")]])
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>ok</b>" in html


def test_tokens_are_coloured_by_sign_and_titled_with_their_value():
    html = token_spans(["good", "bad", "flat"], [0.5, -1.0, 0.0])
    spans = html.split("<span ")[1:]
    assert "rgba(0,160,60," in spans[0] and 'title="&#x27;good&#x27;: A = +0.5000"' in spans[0]
    assert "rgba(220,30,30,0.80)" in spans[1] and "A = -1.0000" in spans[1]  # the largest |A|
    assert "transparent" in spans[2]


def test_token_text_is_escaped_in_content_and_title():
    html = token_spans([XSS, ATTR], [0.1, -0.1])
    assert XSS not in html and ATTR not in html
    assert html.count("&lt;script&gt;") == 2  # content and title
    assert 'title="&#x27;&quot; onmouseover=&quot;x&#x27;: A = -0.1000"' in html


def alpha(colour: str) -> float:
    return float(colour.rsplit(",", 1)[1].rstrip(")"))


def test_colour_strength_grows_with_the_advantage():
    weak, strong = advantage_colour(0.1, 1.0), advantage_colour(0.9, 1.0)
    assert alpha(weak) < alpha(strong)
    assert advantage_colour(float("nan"), 1.0) == "transparent"


def test_page_forbids_scripts_and_network_and_escapes_its_title():
    doc = page(XSS, ["<p>x</p>"])
    assert "Content-Security-Policy" in doc and "default-src 'none'" in doc
    assert "<script" not in doc and "&lt;script&gt;" in doc


def test_number_formatting():
    assert fmt(None) == "–" and fmt(float("nan")) == "–" and fmt(0.123456) == "0.12"
    assert fmt_interval(0.5, 0.25, 0.75) == "0.50 [0.25, 0.75]"
    assert fmt_interval(0.5, None, None) == "0.50"
