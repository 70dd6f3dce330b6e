"""Build the compiled kernels; everything else is in pyproject.toml."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [Extension("sklearn_histai.tree._compiled", ["sklearn_histai/tree/_compiled.pyx"])],
        compiler_directives={"language_level": "3"},
    ),
)
