"""The chapter summary box: glued by Ledger.write() in a kernel and pasted at the top of the page."""

from reprobook.claims import MINIATURE, AtLeast, Claim, Control, Ledger
from reprobook.summary import GLUE_KEY, glue_summary


def test_glue_summary_outside_a_kernel_returns_the_text_and_glues_nothing(capsys):
    ledger = Ledger("demo", [Claim("a", "A claim.", paper="0.9", source="T1", metric="x", rule=AtLeast(0.5),
                                   evidence=MINIATURE, controls=(Control("c", "random"),))])
    ledger.evaluate({"x": [0.7, 0.72, 0.71], "c": [0.1, 0.12, 0.11]})
    text = glue_summary(ledger)
    assert "**a** (miniature)" in text and "reproduced" in text
    assert capsys.readouterr().out == ""
    assert GLUE_KEY == "chapter-summary"
