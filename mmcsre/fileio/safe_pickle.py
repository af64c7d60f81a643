"""Load skeleton pickles and score dumps without running code from them.

``pickle.load`` calls whatever callable a file names (``os.system``,
``builtins.eval``, ...), so a crafted ``.pkl`` runs its own code the moment
it is read. The files mmcsre reads -- pyskl-style annotation pickles and
``tools/test.py --dump`` score dumps -- only ever hold plain containers,
numbers, strings and numpy arrays. :class:`SafeUnpickler` resolves exactly
those globals (for pickles written under numpy 1 and numpy 2, with any
protocol from 0 to 5) and refuses every other one with an
:class:`UnsafePickleError` that names the file and the refused global.

An allowlist of names is not enough on its own: numpy can be made to read
raw memory as Python objects (``numpy.ndarray(shape, object, buffer)``, or
a structured dtype whose state puts an object field on top of an integer
one), which is as good as running code. So the unpickler also checks what
is *called* (only the reconstructors numpy and the builtins use in their
own pickles, with their arguments checked) and every dtype before an array
is built with it. It is the pure-Python ``pickle`` unpickler, whose opcode
handlers can be overridden (two to three times slower than the C one).
"""
import _compat_pickle
import codecs
import collections
import io
import json
import os
import os.path as osp
import pickle
from typing import Any, Callable, Dict, NoReturn, Optional, Tuple, Union

import numpy as np

PathLike = Union[str, os.PathLike]

ALLOWED_SUMMARY = ('only plain containers, numbers, strings and numpy arrays '
                   'are allowed in skeleton pickles and score dumps')

# Builtin types a pickle may name (and call, as the builtins' own pickles do).
BUILTIN_TYPES = (set, frozenset, complex, bytearray, bytes, slice, range, list,
                 dict, tuple, int, float, str, bool)
# Types NEWOBJ / NEWOBJ_EX may instantiate (``cls.__new__(cls, *args)``).
NEWOBJ_TYPES = (complex, int, float, str, bytes, tuple, frozenset, set, list,
                dict, bytearray, collections.OrderedDict, collections.Counter)
# ``default_factory`` values a pickled ``defaultdict`` may have.
DEFAULT_FACTORIES = (None, list, dict, set, frozenset, tuple, int, float,
                     complex, str, bytes, bool, collections.OrderedDict,
                     collections.defaultdict, collections.Counter)
MAX_DTYPE_DEPTH = 32


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle names or calls something outside the allowlist."""


def _numpy_core() -> Tuple[Any, Any]:
    """numpy's ``multiarray`` and ``numeric`` modules (``numpy._core`` in numpy
    2, ``numpy.core`` in numpy 1)."""
    core = getattr(np, '_core', None)
    if core is None or not hasattr(core, 'multiarray'):
        core = np.core  # numpy 1.x
    return core.multiarray, core.numeric


def _build_allowlist() -> Dict[Tuple[str, str], Any]:
    """``{(module, name): object}`` of every global a pickle may name."""
    table: Dict[Tuple[str, str], Any] = {}
    for obj in BUILTIN_TYPES:
        table[('builtins', obj.__name__)] = obj
    table[('collections', 'OrderedDict')] = collections.OrderedDict
    table[('collections', 'Counter')] = collections.Counter
    table[('collections', 'defaultdict')] = collections.defaultdict
    table[('_codecs', 'encode')] = codecs.encode
    multiarray, numeric = _numpy_core()
    # numpy 1 pickles name numpy.core.*, numpy 2 pickles numpy._core.*
    for prefix in ('numpy.core', 'numpy._core'):
        for module in ('multiarray', '_multiarray_umath'):
            table[(f'{prefix}.{module}', '_reconstruct')] = \
                multiarray._reconstruct
            table[(f'{prefix}.{module}', 'scalar')] = multiarray.scalar
        table[(f'{prefix}.numeric', '_frombuffer')] = numeric._frombuffer
    table[('numpy', 'ndarray')] = np.ndarray
    table[('numpy', 'dtype')] = np.dtype
    # scalar types and dtype classes, as values (they may not be called)
    for name in dir(np):
        obj = getattr(np, name, None)
        if isinstance(obj, type) and issubclass(obj, np.generic):
            table[('numpy', name)] = obj
    dtypes = getattr(np, 'dtypes', None)
    for name in dir(dtypes) if dtypes is not None else ():
        obj = getattr(dtypes, name)
        if name.endswith('DType') and isinstance(obj, type):
            table[('numpy.dtypes', name)] = obj
    return table


_ALLOWLIST: Optional[Dict[Tuple[str, str], Any]] = None


def allowed_globals() -> Dict[Tuple[str, str], Any]:
    """The names :class:`SafeUnpickler` resolves.

    Returns:
        dict: ``{(module, name): object}``; names are the Python 3 ones
        (protocol 0-2 pickles' ``__builtin__`` names are mapped first). Of
        these, only the builtin types, ``OrderedDict``, ``Counter``,
        ``defaultdict``, ``_codecs.encode`` and numpy's reconstructors
        (``_reconstruct``, ``scalar``, ``_frombuffer``, ``dtype``) may be
        called, with checked arguments.
    """
    global _ALLOWLIST
    if _ALLOWLIST is None:
        _ALLOWLIST = _build_allowlist()
    return dict(_ALLOWLIST)


def _checked_encode(obj: str, encoding: str = 'utf-8') -> bytes:
    """``_codecs.encode`` as protocol 0-2 pickles use it for ``bytes``: only
    text to bytes in a plain text encoding.

    Args:
        obj (str): The text.
        encoding (str): Codec name. Defaults to ``'utf-8'``.

    Returns:
        bytes: The encoded text.
    """
    try:
        name = codecs.lookup(encoding).name
    except (LookupError, TypeError):
        name = ''
    if not isinstance(obj, str) or name not in ('latin-1', 'iso8859-1',
                                                'utf-8', 'ascii'):
        raise UnsafePickleError(
            f'refused _codecs.encode({type(obj).__name__}, {encoding!r}); '
            'only text to latin-1/utf-8 bytes is allowed')
    return obj.encode(name)


def _checked_defaultdict(factory: Optional[Callable] = None,
                         *args) -> collections.defaultdict:
    """``collections.defaultdict`` whose factory is a plain container or number
    type.

    Args:
        factory (callable, optional): The ``default_factory``. Defaults to
            None.
        *args: Initial items, as ``defaultdict`` takes them.

    Returns:
        collections.defaultdict: The new mapping.
    """
    if not any(factory is f for f in DEFAULT_FACTORIES):
        raise UnsafePickleError(
            f'refused a defaultdict with default_factory={factory!r:.80} '
            '(only builtin container and number types are allowed)')
    return collections.defaultdict(factory, *args)


def _check_builtin_args(func: Any, args: tuple) -> None:
    """Refuse the few builtin calls that allocate without bound: a ``range``
    turned into a container, ``bytes(n)`` / ``bytearray(n)``."""
    if any(isinstance(a, range) for a in args):
        raise UnsafePickleError(
            f'refused {getattr(func, "__name__", func)}(range(...))')
    if func in (bytes, bytearray) and args and isinstance(args[0], int):
        raise UnsafePickleError(f'refused {func.__name__}(int)')


class _Dispatch(dict):
    """The opcode table; an unknown opcode is an ``UnpicklingError`` as in the
    C unpickler (not a ``KeyError``)."""

    def __missing__(self, key: int) -> None:
        raise pickle.UnpicklingError(f'invalid load key, {bytes([key])!r}')


class SafeUnpickler(pickle._Unpickler):
    """An unpickler that resolves and calls only allowlisted globals.

    Names: builtin containers and scalars, ``OrderedDict``/``Counter``/
    ``defaultdict`` (with a container or number factory), ``bytes`` of
    protocol 0-2 pickles and numpy arrays, dtypes and scalars (numpy 1 and
    numpy 2 module paths, protocols 0-5); see :func:`allowed_globals`.
    Calls: only those numpy's and the builtins' own pickles make, with
    checked arguments (numpy arrays are built only through
    ``_reconstruct`` + state or ``_frombuffer``, never over a raw buffer
    of objects; every dtype is checked to be one numpy's constructor
    accepts before an array or scalar is made with it). Nothing else is
    imported or called; persistent ids and the state of other objects are
    refused too.

    Args:
        file (BinaryIO): The open pickle.
        source (str): The file name, quoted in errors. Defaults to
            ``'<pickle>'``.
    """

    dispatch = _Dispatch(pickle._Unpickler.dispatch)

    def __init__(self, file: io.BufferedIOBase, source: str = '<pickle>'):
        super().__init__(file)
        self.source = source
        self._allowed = _ALLOWLIST or allowed_globals()
        multiarray, numeric = _numpy_core()
        self._np_reconstruct = multiarray._reconstruct
        self._np_scalar = multiarray.scalar
        self._np_frombuffer = numeric._frombuffer
        calls = {t: t for t in BUILTIN_TYPES}
        calls.update({
            collections.OrderedDict: collections.OrderedDict,
            collections.Counter: collections.Counter,
            collections.defaultdict: _checked_defaultdict,
            codecs.encode: _checked_encode,
            np.dtype: self._dtype,
            multiarray._reconstruct: self._reconstruct,
            multiarray.scalar: self._scalar,
            numeric._frombuffer: self._frombuffer,
        })
        # by identity: never let __eq__/__hash__ of loaded objects decide
        self._calls = {id(k): (k, v) for k, v in calls.items()}
        self._names = {
            id(v): (f'{m}.{n}', v)
            for (m, n), v in self._allowed.items()
        }
        # fresh dtypes awaiting their BUILD: id -> (dtype, code, align)
        self._pending_dtypes: Dict[int, tuple] = {}
        self._pending_arrays: Dict[int, np.ndarray] = {}
        self._checked_dtypes: Dict[int, np.dtype] = {}

    def _refuse(self, what: str) -> NoReturn:
        """Raise :class:`UnsafePickleError` naming the file."""
        raise UnsafePickleError(f'{self.source}: {what} ({ALLOWED_SUMMARY})')

    def find_class(self, module: str, name: str) -> Any:
        """Return the allowlisted object ``module.name`` or refuse it.

        Args:
            module (str): Module name from the pickle.
            name (str): Qualified name inside it.

        Returns:
            object: The allowed class or function.

        Raises:
            UnsafePickleError: If ``module.name`` is not allowlisted.
        """
        key = (module, name)
        if key in _compat_pickle.NAME_MAPPING:
            key = _compat_pickle.NAME_MAPPING[key]
        elif module in _compat_pickle.IMPORT_MAPPING:
            key = (_compat_pickle.IMPORT_MAPPING[module], name)
        obj = self._allowed.get(key)
        if obj is None:
            self._refuse(f"refused to unpickle global '{module}.{name}'")
        return obj

    def persistent_load(self, pid: Any) -> Any:
        """Refuse persistent ids (used by torch checkpoints, never by skeleton
        pickles).

        Args:
            pid (Any): The persistent id.

        Returns:
            object: Never returns.
        """
        self._refuse(f'refused a persistent id {pid!r:.60}')

    # -- calls ---------------------------------------------------------------
    def _describe(self, obj: Any) -> str:
        """A global's pickled name, else the type of a value."""
        entry = self._names.get(id(obj))
        if entry is not None and entry[1] is obj:
            return f"'{entry[0]}'"
        return f'a {type(obj).__name__} value'

    def _call(self, func: Any, args: Any, kwargs: Optional[dict] = None):
        """``func(*args, **kwargs)`` if ``func`` may be called."""
        entry = self._calls.get(id(func))
        if entry is None or entry[0] is not func:
            self._refuse(f'refused to call {self._describe(func)}')
        if type(args) is not tuple:
            raise pickle.UnpicklingError('call arguments are not a tuple')
        if func in BUILTIN_TYPES or func is collections.Counter:
            _check_builtin_args(func, args)
        return entry[1](*args, **(kwargs or {}))

    def load_reduce(self) -> None:
        """REDUCE: call an allowed callable (see :meth:`_call`)."""
        args = self.stack.pop()
        self.stack[-1] = self._call(self.stack[-1], args)

    dispatch[pickle.REDUCE[0]] = load_reduce

    def _instantiate(self, klass: Any, args: list) -> None:
        """INST / OBJ (protocols 0 and 1): as REDUCE."""
        self.append(self._call(klass, tuple(args)))

    def _new(self, cls: Any, args: Any, kwargs: Any) -> Any:
        """NEWOBJ / NEWOBJ_EX: ``cls.__new__`` of a plain builtin type."""
        if not any(cls is t for t in NEWOBJ_TYPES):
            self._refuse(
                f'refused to create an object of {self._describe(cls)}')
        if type(args) is not tuple or kwargs:
            raise pickle.UnpicklingError('bad NEWOBJ arguments')
        _check_builtin_args(cls, args)
        return cls.__new__(cls, *args)

    def load_newobj(self) -> None:
        """NEWOBJ."""
        args = self.stack.pop()
        cls = self.stack.pop()
        self.append(self._new(cls, args, None))

    dispatch[pickle.NEWOBJ[0]] = load_newobj

    def load_newobj_ex(self) -> None:
        """NEWOBJ_EX."""
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        self.append(self._new(cls, args, kwargs))

    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex

    # -- numpy ---------------------------------------------------------------
    def _dtype(self, obj: Any, align: Any = False, copy: Any = False):
        """``numpy.dtype(code, align, copy)`` as numpy pickles it: a type code,
        a fresh dtype whose state the next BUILD sets."""
        if not isinstance(obj, (str, bytes)):
            self._refuse(f'refused numpy.dtype of a {type(obj).__name__}')
        dtype = np.dtype(obj, bool(align), True)
        self._pending_dtypes[id(dtype)] = (dtype, obj, bool(align))
        return dtype

    def _reconstruct(self, subtype: Any, shape: Any, dtype: Any):
        """``_reconstruct(ndarray, (0, ), b'b')``: an empty array whose state
        the next BUILD sets."""
        if subtype is not np.ndarray:
            self._refuse('refused _reconstruct of '
                         f'{self._describe(subtype)}')
        if not (isinstance(shape, tuple) and 0 < len(shape) <= 32
                and all(type(n) is int for n in shape) and 0 in shape
                and isinstance(dtype, (str, bytes))):
            raise pickle.UnpicklingError(
                f'unexpected _reconstruct arguments {shape!r:.40}, '
                f'{dtype!r:.40}')
        array = self._np_reconstruct(np.ndarray, shape, dtype)
        self._pending_arrays[id(array)] = array
        return array

    def _scalar(self, dtype: Any, *args):
        """``multiarray.scalar(dtype, data)`` with a checked dtype."""
        self._check_dtype(dtype)
        return self._np_scalar(dtype, *args)

    def _frombuffer(self, buf: Any, dtype: Any, shape: Any, order: Any):
        """``numeric._frombuffer`` (protocol 5) with a checked dtype."""
        self._check_dtype(dtype)
        if dtype.hasobject:
            self._refuse('refused an array of objects from a raw buffer')
        return self._np_frombuffer(buf, dtype, shape, order)

    def _check_dtype(self, dtype: Any, depth: int = 0) -> None:
        """Refuse a dtype numpy's own constructor would not make (objects
        overlapping other fields or out of range, wrong flags).

        A dtype in use can no longer get a state (a BUILD changing the layout
        of arrays already made with it is refused).
        """
        if not isinstance(dtype, np.dtype):
            raise pickle.UnpicklingError(
                f'expected a numpy dtype, got {type(dtype).__name__}')
        key = id(dtype)
        if self._checked_dtypes.get(key) is dtype:
            return
        if self._pending_dtypes.get(key, (None, ))[0] is dtype:
            # used as numpy made it: no later BUILD may change it
            del self._pending_dtypes[key]
        if depth > MAX_DTYPE_DEPTH:
            self._refuse('refused a numpy dtype nested too deeply')
        try:
            same_fields = True
            if dtype.subdtype is not None:
                base, shape = dtype.subdtype
                self._check_dtype(base, depth + 1)
                canonical = np.dtype((base, shape))
            elif dtype.fields is not None:
                fields = dict(dtype.fields)
                for field in fields.values():
                    self._check_dtype(field[0], depth + 1)
                names = list(dtype.names)
                spec = dict(
                    names=names,
                    formats=[fields[n][0] for n in names],
                    offsets=[fields[n][1] for n in names],
                    itemsize=dtype.itemsize)
                titles = [
                    fields[n][2] if len(fields[n]) > 2 else None for n in names
                ]
                if any(t is not None for t in titles):
                    spec['titles'] = titles
                canonical = np.dtype(spec, align=dtype.isalignedstruct)
                same_fields = dict(canonical.fields) == fields
            else:
                canonical = np.dtype(dtype.str)
            same = (
                same_fields and canonical == dtype
                and canonical.flags == dtype.flags
                and canonical.itemsize == dtype.itemsize
                and canonical.hasobject == dtype.hasobject)
        except UnsafePickleError:
            raise
        except Exception as err:  # numpy refused the layout
            self._refuse(f'refused an inconsistent numpy dtype ({err})')
        if not same:
            self._refuse('refused a numpy dtype whose state differs from '
                         f'what numpy builds ({dtype!r:.120})')
        self._checked_dtypes[key] = dtype

    def load_build(self) -> None:
        """BUILD: only the state of a dtype or array just made by numpy's
        reconstructors, checked first."""
        state = self.stack.pop()
        inst = self.stack[-1]
        key = id(inst)
        pending = self._pending_dtypes.get(key, (None, ))
        if isinstance(inst, np.dtype) and pending[0] is inst:
            # the state goes on a throw-away twin first, then is checked
            probe = np.dtype(pending[1], pending[2], True)
            probe.__setstate__(state)
            self._check_dtype(probe)
            del self._pending_dtypes[key]
            inst.__setstate__(state)
            self._checked_dtypes[key] = inst
        elif type(inst) is np.ndarray and \
                self._pending_arrays.get(key) is inst:
            if not isinstance(state, tuple) or len(state) not in (4, 5):
                raise pickle.UnpicklingError('unexpected ndarray state')
            self._check_dtype(state[-3])
            del self._pending_arrays[key]
            inst.__setstate__(state)
        else:
            self._refuse('refused to set the state of '
                         f'{self._describe(inst)}')

    dispatch[pickle.BUILD[0]] = load_build


def _load(file: io.BufferedIOBase, source: str) -> Any:
    """Unpickle ``file`` safely; any failure names ``source``."""
    try:
        return SafeUnpickler(file, source).load()
    except UnsafePickleError as err:
        if str(err).startswith(f'{source}: '):
            raise
        raise UnsafePickleError(f'{source}: {err}') from err
    except Exception as err:  # garbage bytes can raise almost anything
        raise pickle.UnpicklingError(
            f'{source}: not a readable pickle ({type(err).__name__}: {err})'
        ) from err


def safe_pickle_loads(data: bytes, source: str = '<bytes>') -> Any:
    """Unpickle bytes, admitting only plain data (see
    :class:`SafeUnpickler`).

    Args:
        data (bytes): The pickle.
        source (str): Where the bytes came from, quoted in errors. Defaults
            to ``'<bytes>'``.

    Returns:
        object: The unpickled object.

    Raises:
        UnsafePickleError: If the pickle names a global outside the
            allowlist (nothing of it is run).
        pickle.UnpicklingError: If the bytes are not a readable pickle
            (garbage, truncated, empty).
    """
    return _load(io.BytesIO(data), source)


def safe_pickle_load(path: PathLike) -> Any:
    """Unpickle a file, admitting only plain data (see
    :class:`SafeUnpickler`).

    Args:
        path (str | os.PathLike): The ``.pkl`` file.

    Returns:
        object: The unpickled object.

    Raises:
        FileNotFoundError: If there is no such file.
        UnsafePickleError: If the pickle names a global outside the
            allowlist (nothing of it is run).
        pickle.UnpicklingError: If the file is not a readable pickle.
    """
    source = os.fspath(path)
    if not osp.isfile(source):
        raise FileNotFoundError(f'{source}: no such file')
    with open(source, 'rb') as f:
        return _load(f, source)


PICKLE_SUFFIXES = ('.pkl', '.pickle')
YAML_SUFFIXES = ('.yaml', '.yml')


def safe_load(path: PathLike) -> Any:
    """Load a ``.json``, ``.yaml``/``.yml`` or ``.pkl``/``.pickle`` file
    without running code from it (a safe ``mmengine.load``).

    Args:
        path (str | os.PathLike): The file; its suffix picks the format.

    Returns:
        object: The loaded content.

    Raises:
        FileNotFoundError: If there is no such file.
        ValueError: On an unknown suffix or malformed JSON/YAML (the
            message names the file).
        UnsafePickleError: If a pickle names a refused global.
        pickle.UnpicklingError: If a pickle is unreadable.
    """
    source = os.fspath(path)
    suffix = osp.splitext(source)[1].lower()
    if suffix in PICKLE_SUFFIXES:
        return safe_pickle_load(source)
    if suffix != '.json' and suffix not in YAML_SUFFIXES:
        raise ValueError(f'{source}: unknown file type {suffix!r}; expected '
                         '.json, .yaml, .yml, .pkl or .pickle')
    if not osp.isfile(source):
        raise FileNotFoundError(f'{source}: no such file')
    kind = 'JSON' if suffix == '.json' else 'YAML'
    try:
        with open(source, encoding='utf-8') as f:
            if suffix == '.json':
                return json.load(f)
            import yaml
            return yaml.safe_load(f)
    except OSError:
        raise
    except Exception as err:  # JSONDecodeError, YAMLError, bad UTF-8
        raise ValueError(f'{source}: not valid {kind} ({err})') from err
