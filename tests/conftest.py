"""Import mmcsre before any test module so that its compatibility fixes
(:mod:`mmcsre.utils.compat`: the mmcv-lite warning filter, the DRN stub
that must precede the first ``import mmaction.models``) and its registry
entries are in place however the tests are selected."""
import re

import pytest

import mmcsre  # noqa: F401

# End-to-end runs (trainings and CLIs in subprocesses): `-m "not slow"`
# skips them. Paths are relative to tests/.
SLOW_FILES = {
    'test_tools/test_train_streams.py', 'test_tools/test_run_sweep.py',
    'test_tools/test_strip_checkpoint.py', 'test_tools/test_dist_train.py',
    'test_tools/test_csre_end_to_end.py',
    'test_tools/test_frhead_end_to_end.py',
    'test_tools/test_train_test_resume.py',
    'test_tools/test_non_finite_end_to_end.py',
    'test_tools/test_export_project.py', 'test_tools/test_test_tool.py',
    'test_tools/test_nwucla_training.py',
    'test_tools/test_untrusted_inputs.py',
    'test_engine/test_resumable_randomness_hook.py',
    'test_configs/test_docs_backbone_example.py',
    'test_docs/test_demo_figures.py'
}
SLOW_NAMES = re.compile(
    r'through_(the_)?tools|trains_and_tests|train_py|trains_one_step')


def pytest_collection_modifyitems(config, items):
    """Mark the end-to-end tests ``slow``."""
    root = config.rootpath / 'tests'
    for item in items:
        try:
            rel = item.path.relative_to(root).as_posix()
        except ValueError:
            continue
        if rel in SLOW_FILES or SLOW_NAMES.search(item.name):
            item.add_marker(pytest.mark.slow)
