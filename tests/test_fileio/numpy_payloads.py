"""Hand-assembled pickles that name only allowlisted globals but would make
numpy read raw bytes as Python objects (memory corruption, as good as running
code) or allocate without bound.

Run as a script (``python numpy_payloads.py SAFE_PICKLE_PY``) it loads each
payload with the safe unpickler in this fresh process, which a regression could
crash, and prints one JSON line per payload.
"""
import json
import struct
import sys


def G(module: str, name: str) -> bytes:
    """GLOBAL."""
    return b'c' + module.encode() + b'\n' + name.encode() + b'\n'


def U(text: str) -> bytes:
    """BINUNICODE."""
    data = text.encode()
    return b'X' + struct.pack('<I', len(data)) + data


def INT(n: int) -> bytes:
    """BININT."""
    return b'J' + struct.pack('<i', n)


def BYTES(data: bytes) -> bytes:
    """BINBYTES."""
    return b'B' + struct.pack('<I', len(data)) + data


def BYTEARRAY(data: bytes) -> bytes:
    """BYTEARRAY8."""
    return b'\x96' + struct.pack('<Q', len(data)) + data


def TUPLE(*items: bytes) -> bytes:
    """MARK ...

    TUPLE.
    """
    return b'(' + b''.join(items) + b't'


def DICT(*pairs) -> bytes:
    """EMPTY_DICT MARK ...

    SETITEMS.
    """
    return b'}(' + b''.join(k + v for k, v in pairs) + b'u'


def LIST(*items: bytes) -> bytes:
    """EMPTY_LIST MARK ...

    APPENDS.
    """
    return b'](' + b''.join(items) + b'e'


NONE, TRUE, FALSE, REDUCE, BUILD = b'N', b'\x88', b'\x89', b'R', b'b'
PROTO4, STOP = b'\x80\x04', b'.'


def dtype(code: str, state: bytes = None) -> bytes:
    """``numpy.dtype(code, False, True)``, then BUILD with ``state``."""
    out = G('numpy', 'dtype') + TUPLE(U(code), FALSE, TRUE) + REDUCE
    return out if state is None else out + state + BUILD


def simple_state(order: str = '|', flags: int = 0) -> bytes:
    """The state numpy pickles for a non-structured dtype."""
    return TUPLE(
        INT(3), U(order), NONE, NONE, NONE, INT(-1), INT(-1), INT(flags))


def struct_state(names, fields, itemsize: int, flags: int = 63) -> bytes:
    """The state of a structured dtype: ``fields`` maps name -> (dtype pickle,
    offset)."""
    return TUPLE(
        INT(3), U('|'), NONE, TUPLE(*[U(n) for n in names]),
        DICT(*[(U(k), TUPLE(v, INT(off))) for k, (v, off) in fields.items()]),
        INT(itemsize), INT(8), INT(flags))


OBJECT = dtype('O8', simple_state('|', 63))
INT64 = dtype('i8', simple_state('<', 0))
FROMBUFFER = G('numpy._core.numeric', '_frombuffer')

PAYLOADS = {
    # numpy.ndarray(shape, object, buffer): raw bytes as object pointers
    'ndarray over a buffer':
    G('numpy', 'ndarray') + TUPLE(TUPLE(INT(2)), U('O'), BYTES(b'A' * 16)) +
    REDUCE,
    'ndarray by NEWOBJ':
    G('numpy', 'ndarray') + TUPLE(TUPLE(INT(2)), U('O'), BYTES(b'A' * 16)) +
    b'\x81',
    # dtype states numpy's constructor would refuse
    'overlapping object field':
    dtype('V8', struct_state(['a', 'b'], {
        'a': (OBJECT, 0),
        'b': (INT64, 0)
    }, 8)),
    'object dtype without its flags':
    dtype('O8', simple_state('|', 0)),
    'hidden object field':
    dtype('V8',
          struct_state(['a'], {
              'a': (INT64, 0),
              'evil': (OBJECT, 0)
          }, 8, 0)),
    'object field past the end':
    dtype('V8', struct_state(['a'], {'a': (OBJECT, 4)}, 8)),
    # an array made with a dtype, then the dtype's layout changed to objects
    'dtype changed after use':
    LIST(
        FROMBUFFER + TUPLE(
            BYTEARRAY(b'A' * 16),
            dtype('V16') + b'q\x01', TUPLE(INT(1)), U('C')) + REDUCE,
        b'h\x01' + struct_state(['o', 'p'], {
            'o': (OBJECT, 0),
            'p': (OBJECT, 8)
        }, 16) + BUILD),
    # an array's state set again (an object state over a numeric array)
    'array state set twice':
    FROMBUFFER + TUPLE(BYTEARRAY(b'A' * 8), INT64, TUPLE(INT(1)), U('C')) +
    REDUCE + TUPLE(INT(1), TUPLE(INT(1)), OBJECT, FALSE, LIST(NONE)) + BUILD,
    'object array from a buffer':
    FROMBUFFER + TUPLE(BYTEARRAY(b'A' * 8), OBJECT, TUPLE(INT(1)), U('C')) +
    REDUCE,
    'numpy.void call':
    G('numpy', 'void') + TUPLE(BYTES(b'A' * 8)) + REDUCE,
    'dtype of a dtype':
    G('numpy', 'dtype') + TUPLE(OBJECT, FALSE, TRUE) + REDUCE,
    'state of a list':
    LIST(INT(1)) + DICT((U('x'), INT(1))) + BUILD,
    # unbounded allocations
    'big _reconstruct':
    G('numpy._core.multiarray', '_reconstruct') +
    TUPLE(G('numpy', 'ndarray'), TUPLE(INT(2**31 - 1)), BYTES(b'b')) + REDUCE,
    'set of a huge range':
    G('builtins', 'set') +
    TUPLE(G('builtins', 'range') + TUPLE(INT(2**31 - 1)) + REDUCE) + REDUCE,
    'bytes(n)':
    G('builtins', 'bytes') + TUPLE(INT(2**31 - 1)) + REDUCE,
}
PAYLOADS = {k: PROTO4 + v + STOP for k, v in PAYLOADS.items()}
# What the stock unpickler makes of these (safe to build, never used).
LIVE_DTYPES = ('overlapping object field', 'object dtype without its flags',
               'hidden object field')

if __name__ == '__main__':
    import importlib.util
    spec = importlib.util.spec_from_file_location('safe_pickle', sys.argv[1])
    safe_pickle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(safe_pickle)
    for name, data in PAYLOADS.items():
        try:
            out = safe_pickle.safe_pickle_loads(data, source=name)
            result = dict(name=name, error=None, loaded=repr(out)[:80])
        except Exception as err:  # reported to the test
            result = dict(name=name, error=type(err).__name__, msg=str(err))
        print(json.dumps(result), flush=True)
