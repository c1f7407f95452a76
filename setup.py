"""Build entry for ``scrapyd-deploy``, which runs ``python setup.py bdist_egg``.

The package itself is declared in ``pyproject.toml``. Without this file scrapyd-deploy would
write its own ``setup.py`` packaging every directory (tests, bench) and no ``sources.toml``.
"""

from setuptools import setup

setup()
