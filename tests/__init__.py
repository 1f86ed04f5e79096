"""The test suite; a package so that test modules import the helpers in `tests.support`.

    unit/<folder>/  the package's folders (records, integrations, projection, server)
    e2e/            a real `tensorboard` process or a demo script, end to end
    browser/        the tab in the system Chromium, against a real `tensorboard`
    support/        helpers the tests import (fixtures stay in conftest.py files)
"""
