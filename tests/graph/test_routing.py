"""Route order is a speed choice only: every path reaches its most specific operation.

FastAPI takes the first route that matches, and graph/api.py orders the routers by how
often they are called. That is safe while a literal segment (`$count`) always wins over
a parameter (`{appointment_id}`) that could also match it, whatever the router order.
"""

from __future__ import annotations

import re

from fastapi import FastAPI

PARAMETER = re.compile(r"\{[^}]+\}")


def _pattern(template: str) -> re.Pattern[str]:
    parts = PARAMETER.split(template)
    return re.compile("[^/]+".join(re.escape(part) for part in parts) + "$")


def test_every_path_reaches_its_most_specific_operation(app: FastAPI) -> None:
    paths = app.openapi()["paths"]  # in the order the app tries them
    operations = [(template, method) for template, item in paths.items() for method in item]
    patterns = {template: _pattern(template) for template in paths}

    for template, method in operations:
        concrete = PARAMETER.sub("sample", template)
        claimed = [
            other
            for other, other_method in operations
            if other_method == method and patterns[other].match(concrete)
        ]
        most_specific = min(claimed, key=lambda other: len(PARAMETER.findall(other)))
        assert claimed[0] == most_specific == template, (method, concrete, claimed)
