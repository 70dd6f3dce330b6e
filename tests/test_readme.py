"""Check that the README keeps up with the estimators of the package."""

import re
from pathlib import Path

from sklearn_histai.utils import all_estimators

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_names_every_estimator():
    """Check that README.md names every estimator that discovery finds."""
    assert README.is_file(), f"{README} is missing"
    text = README.read_text(encoding="utf-8")
    missing = [
        name
        for name, _ in all_estimators()
        if not re.search(rf"\b{re.escape(name)}\b", text)
    ]
    assert not missing, (
        f"README.md does not name {missing}; add them to its estimator table "
        "(`python -m sklearn_histai.compare --list` prints it)."
    )
