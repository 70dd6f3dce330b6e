"""Check that no module of sklearn_histai imports another module's private names."""

import ast
import importlib.machinery
from pathlib import Path

import sklearn_histai

PACKAGE_ROOT = Path(sklearn_histai.__file__).parent


def _module_name(path, root):
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted_name, root):
    """Tell whether ``dotted_name`` is a module or package of the package.

    Compiled modules count, by their Cython source or their built file.
    """
    path = root.parent.joinpath(*dotted_name.split("."))
    suffixes = (".py", ".pyx", *importlib.machinery.EXTENSION_SUFFIXES)
    return (path / "__init__.py").is_file() or any(
        path.with_name(path.name + suffix).is_file() for suffix in suffixes
    )


def _imported_module(node, module, is_package):
    """Return the absolute name of the module of ``from ... import``."""
    if node.level == 0:
        return node.module
    base = module.split(".")
    base = base[: len(base) - node.level + is_package]
    return ".".join(base + ([node.module] if node.module else []))


def private_imports(path, root=PACKAGE_ROOT):
    """Yield the underscore names that the module at ``path`` imports from others.

    Private submodules (``from package import _module``) are modules, not
    names, and are not reported.
    """
    module = _module_name(path, root)
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom):
            continue
        source = _imported_module(node, module, is_package)
        if source is None or not source.startswith("sklearn_histai"):
            continue
        for alias in node.names:
            if (
                alias.name.startswith("_")
                and source != module
                and not _is_module(f"{source}.{alias.name}", root)
            ):
                yield module, source, alias.name


def _all_private_imports():
    return {
        found
        for path in sorted(PACKAGE_ROOT.rglob("*.py"))
        for found in private_imports(path)
    }


def test_private_imports_finds_private_names_only(tmp_path):
    """Check that the scan reports private names, not public ones or submodules.

    Submodules include compiled ones (``_kernel.pyx``).
    """
    package = tmp_path / "sklearn_histai"
    (package / "family").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "family" / "__init__.py").write_text("")
    (package / "family" / "_shared.py").write_text("")
    (package / "family" / "_kernel.pyx").write_text("")
    module = package / "family" / "_user.py"
    module.write_text(
        "from sklearn_histai.family._shared import _hidden, visible\n"
        "from sklearn_histai.family import _shared\n"
        "from sklearn_histai.family import _kernel, _missing\n"
        "from ._shared import _relative\n"
        "from sklearn.base import _fit_context\n"
        "def f():\n"
        "    from sklearn_histai.other import _late\n"
    )
    assert set(private_imports(module, package)) == {
        ("sklearn_histai.family._user", "sklearn_histai.family._shared", "_hidden"),
        ("sklearn_histai.family._user", "sklearn_histai.family._shared", "_relative"),
        ("sklearn_histai.family._user", "sklearn_histai.other", "_late"),
        ("sklearn_histai.family._user", "sklearn_histai.family", "_missing"),
    }


def test_no_module_imports_private_names_of_another():
    """Check that private names are imported only by the module defining them."""
    found = sorted(_all_private_imports())
    assert not found, f"private names imported across modules: {found}"
