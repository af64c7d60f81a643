"""Import the analysis tools' optional libraries with an actionable error."""
import importlib
from types import ModuleType

from .errors import AnalysisError

INSTALL_HINT = ('pip install -r requirements/analysis.txt (or pip install '
                '"mmcsre[analysis]")')
# Import name -> pip package name.
PACKAGES = {'matplotlib': 'matplotlib', 'sklearn': 'scikit-learn'}


class MissingDependencyError(AnalysisError, ImportError):
    """An optional library of the analysis group is not installed."""


def require(module: str) -> ModuleType:
    """Import ``module`` (e.g. ``'sklearn.manifold'``) or explain how to
    install it.

    Args:
        module (str): Dotted module name; its top-level package must be one
            of :data:`PACKAGES`.

    Returns:
        ModuleType: The imported module.

    Raises:
        MissingDependencyError: If the library is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        top = module.split('.')[0]
        raise MissingDependencyError(
            f'{PACKAGES.get(top, top)} is needed by the analysis tools but '
            f'could not be imported ({err}); install the analysis '
            f'requirements: {INSTALL_HINT}') from err


def pyplot() -> ModuleType:
    """``matplotlib.pyplot`` with the file-only Agg backend (no display
    needed)."""
    matplotlib = require('matplotlib')
    matplotlib.use('Agg')
    return require('matplotlib.pyplot')
