"""The two outside checkers of the browser tests: axe-core (WCAG 2.1 AA, injected into the page
by Playwright, never served) and the Nu HTML checker (run once on Java over a batch of pages).

axe-core is vendored in tests/e2e/vendor/axe-core; the Nu checker is npm's ``vnu-jar``, which
``make install-test`` installs into tests/e2e/checkers/node_modules.
"""

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
AXE_JS = HERE / "vendor" / "axe-core" / "axe.min.js"
VNU_JAR = HERE / "checkers" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
#: The axe rules of WCAG 2.0 and 2.1, levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: Findings of these impacts fail the suite.
FAILING_IMPACTS = {"serious", "critical"}


@dataclass
class Findings:
    """What both checkers found over the pages of one run."""

    #: (page label, rule id, impact, number of elements, first element's selector, summary)
    axe: list[tuple[str, str, str, int, str, str]] = field(default_factory=list)
    #: page label → its HTML as the server sent it, for the Nu checker
    documents: dict[str, str] = field(default_factory=dict)
    pages_checked: int = 0

    def failing_axe(self) -> list[tuple]:
        return [f for f in self.axe if f[2] in FAILING_IMPACTS]

    def axe_summary(self) -> dict[str, int]:
        """Findings (rule × page) by impact."""
        counts: dict[str, int] = {}
        for finding in self.axe:
            counts[finding[2]] = counts.get(finding[2], 0) + 1
        return counts


def add_axe(context) -> None:
    """Have axe-core in every page the browser context opens (from its vendored copy)."""
    context.add_init_script(path=str(AXE_JS))


#: Rows of one list or table kept for axe-core: the rows after them repeat the same markup
#: (a caseload's 475 students), and checking them only multiplies the time. The Nu checker
#: still reads the whole page as the server sent it.
AXE_ROWS = 25
TRIM_ROWS = f"""() => {{
  for (const list of document.querySelectorAll('tbody, ul, ol, .list-group')) {{
    const rows = Array.from(list.children);
    rows.slice({AXE_ROWS}).forEach(row => row.remove());
  }}
}}"""


def run_axe(page, label: str, findings: Findings) -> None:
    """Run axe-core on the page as it is now (its long lists cut to their first ``AXE_ROWS``
    rows) and add its violations to ``findings``.

    It runs without building CSS selectors (the slow part on a long table); only a page with
    violations is checked again with them, to name the elements.
    """
    script = ("([tags, selectors]) => axe.run(document, {runOnly: {type: 'tag', values: tags},"
              " resultTypes: ['violations'], selectors})"
              ".then(r => r.violations.map(v => [v.id, v.impact, v.nodes.length,"
              " (v.nodes[0].target || []).join(' '), v.nodes[0].failureSummary]))")
    page.evaluate(TRIM_ROWS)
    result = page.evaluate(script, [AXE_TAGS, False])
    if result:
        result = page.evaluate(script, [AXE_TAGS, True])
    findings.pages_checked += 1
    for rule, impact, count, target, summary in result:
        findings.axe.append((label, rule, impact, count, target, summary))


def nu_errors(documents: dict[str, str]) -> list[tuple[str, str, str]]:
    """Check every document with one run of the Nu checker; its errors as (page, message,
    extract)."""
    java = shutil.which("java")
    assert java, "the Nu HTML checker needs Java (apt-get install default-jre-headless)"
    assert VNU_JAR.exists(), f"the Nu HTML checker is missing: run make install-test ({VNU_JAR})"
    with tempfile.TemporaryDirectory() as folder:
        names = {}
        for index, (label, html) in enumerate(documents.items()):
            path = Path(folder) / f"page-{index:03d}.html"
            path.write_text(html, encoding="utf-8")
            names[path.name] = label
        completed = subprocess.run(
            [java, "-Xss16m", "-jar", str(VNU_JAR), "--errors-only", "--format", "json",
             "--exit-zero-always", folder],
            capture_output=True, text=True, timeout=300, check=True,
        )
    messages = json.loads(completed.stderr or completed.stdout)["messages"]
    return [(names.get(Path(m.get("url", "")).name, m.get("url", "")), m["message"],
             m.get("extract", "").strip()) for m in messages if m.get("type") == "error"]
