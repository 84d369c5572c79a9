"""Run pip-audit on the installed environment; fail on a known vulnerability, but only warn
(loudly) when the advisory service could not be reached or answered for no package."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PIP_AUDIT = Path(sys.executable).with_name("pip-audit")


def main() -> int:
    try:
        done = subprocess.run(
            [str(PIP_AUDIT), "--local", "--format", "json", "--progress-spinner", "off"],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    except subprocess.TimeoutExpired:
        print("pip-audit: WARNING the advisory service did not answer in 180 s; not audited")
        return 0
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        print("pip-audit: WARNING no report (advisory service unreachable?); not audited")
        print(done.stderr.strip()[-2000:])
        return 0
    dependencies = report.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    vulnerable = [d for d in audited if d.get("vulns")]
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            print(f"{dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixes})")
    skipped = len(dependencies) - len(audited)
    if not audited:
        print(
            f"pip-audit: WARNING the advisory service answered for none of {len(dependencies)} "
            "packages (this network reaches the package index but not its JSON API); not audited"
        )
        return 0
    print(
        f"pip-audit: {len(audited)} packages audited, {skipped} skipped, "
        f"{len(vulnerable)} with known vulnerabilities"
    )
    return 1 if vulnerable else 0


if __name__ == "__main__":
    raise SystemExit(main())
