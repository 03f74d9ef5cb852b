"""Print the ratios of a pytest-benchmark JSON file: ours vs peer vs bare, per group.

python benchmarks/report.py bench.json
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict


def main(path: str) -> None:
    data = json.loads(open(path, encoding="utf-8").read())
    groups: dict[str, dict[str, dict]] = defaultdict(dict)
    for b in data["benchmarks"]:
        role = b.get("extra_info", {}).get("role", b["name"])
        groups[b.get("group") or b["name"]][role] = b
    machine = data.get("machine_info", {})
    print(
        f"machine: {machine.get('cpu', {}).get('brand_raw', '?')}, "
        f"{machine.get('cpu', {}).get('count', '?')} logical CPUs"
    )
    for group, roles in groups.items():
        print(f"\n## {group}")
        for role, b in roles.items():
            s = b["stats"]
            extra = {k: v for k, v in b.get("extra_info", {}).items() if k != "role"}
            print(
                f"- {role}: median {s['median']:.3f} s (min {s['min']:.3f}, "
                f"{s['rounds']} rounds) {extra}"
            )
        ours = roles.get("ours")
        for other in ("peer", "bare"):
            if ours and other in roles:
                ratio = ours["stats"]["median"] / roles[other]["stats"]["median"]
                print(f"  ours / {other} = {ratio:.2f}×")


if __name__ == "__main__":
    main(sys.argv[1])
