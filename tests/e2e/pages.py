"""What every page visit checks: axe-core (WCAG A/AA) finds nothing serious or critical, no
script ran (the CSP forbids it), and main pages are photographed at phone and desktop widths."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
WIDTHS = {"phone": (360, 780), "desktop": (1280, 900)}
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}

_axe = Axe()


@dataclass
class Audit:
    """The pages a test visited and the serious or critical accessibility problems found."""

    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def check(self, page: Page, name: str, *, screenshot: bool = True) -> None:
        results = _axe.run(page, options=AXE_OPTIONS)
        self.checked.append(f"{name} ({page.url})")
        for violation in results.response["violations"]:
            if violation.get("impact") in ("serious", "critical"):
                targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
                self.problems.append(
                    f"{name}: {violation['id']} ({violation['impact']}): "
                    f"{violation['help']} at {targets}"
                )
        if screenshot:
            take_screenshots(page, name)


def take_screenshots(page: Page, name: str) -> None:
    """Into docs/screenshots/ in CI (CI=true) or when PEERPATH_SCREENSHOTS is set; a local
    test run leaves the committed pictures alone."""
    if not (os.environ.get("CI") or os.environ.get("PEERPATH_SCREENSHOTS")):
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    if original:
        page.set_viewport_size(original)
