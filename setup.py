"""Build the compiled kernels; everything else is in pyproject.toml."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension(
                f"sklearn_histai.{name}._compiled",
                [f"sklearn_histai/{name}/_compiled.pyx"],
            )
            for name in ("text", "tree")
        ],
        compiler_directives={"language_level": "3"},
    ),
)
