"""Import mmcsre before any test module so that its compatibility fixes
(:mod:`mmcsre.utils.compat`: the mmcv-lite warning filter, the DRN stub
that must precede the first ``import mmaction.models``) and its registry
entries are in place however the tests are selected."""
import mmcsre  # noqa: F401
