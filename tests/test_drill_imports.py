"""numpy and SymPy are imported only where needed: listing the drill families, the CLI's
start-up and a number answer to a scalar family never import them (tensor families import
numpy inside the functions that build and grade their arrays)."""

from __future__ import annotations

import json
import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json\n"
                          "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"],
                         capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_listing_families_imports_neither_numpy_nor_sympy():
    mods = _modules_after("import quizforge.cli\nfrom quizforge.drill.family import families\n"
                          "families()")
    assert not mods & {"numpy", "sympy"}


def test_a_scalar_family_grades_a_number_without_numpy():
    mods = _modules_after("from quizforge.drill import generate, grade\n"
                          "p = generate('backprop', 7, 1)\n"
                          "assert grade(p, p.expected_text(0)).correct")
    assert not mods & {"numpy", "sympy"}


def test_a_tensor_family_uses_numpy_itself():
    mods = _modules_after("from quizforge.drill import generate\n"
                          "import numpy\n"
                          "p = generate('linear', 7, 1)\n"
                          "assert isinstance(p.target(0).value, numpy.ndarray)")
    assert "numpy" in mods
