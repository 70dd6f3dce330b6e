"""Test-suite configuration: this folder holds the helpers the tests share.

pytest puts the folder of a ``conftest.py`` outside a package on
``sys.path``, so the tests import ``estimator_instances`` (the instances and
per-check parameters of the shared estimator checks) and
``text_estimator_cases`` (the cases of the text-estimator suite) by name.
"""
