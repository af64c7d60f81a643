"""mmcsre.fileio: the allowlisting unpickler loads what skeleton pickles and
score dumps hold (numpy 1 and numpy 2 pickles, protocols 0-5) and refuses
everything else without running it."""
import collections
import json
import os
import pickle
import pickletools
import subprocess
import sys

import mmengine
import numpy as np
import pytest
import torch

from mmcsre.evaluation import DumpSkeletonScores
from mmcsre.evaluation.fusion import load_score_dump
from mmcsre.fileio import (SafeUnpickler, UnsafePickleError, allowed_globals,
                           safe_load, safe_pickle_load, safe_pickle_loads)

PROTOCOLS = list(range(pickle.HIGHEST_PROTOCOL + 1))


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def as_numpy1(payload: bytes) -> bytes:
    """The same pickle as numpy 1.x writes it: ``numpy._core.*`` globals
    renamed ``numpy.core.*``.

    Protocols 0-2 name globals in text (GLOBAL); protocols 4-5 push the names
    as length-prefixed strings, so those opcodes are re-encoded (and the
    optional FRAME opcodes dropped, their lengths would be off).
    """
    out = bytearray()
    ops = list(pickletools.genops(payload))
    for k, (op, arg, pos) in enumerate(ops):
        end = ops[k + 1][2] if k + 1 < len(ops) else len(payload)
        raw = payload[pos:end]
        if op.name == 'FRAME':
            continue
        if isinstance(arg, str) and arg.startswith('numpy._core'):
            new = arg.replace('numpy._core', 'numpy.core', 1)
            data = new.encode()
            if op.name == 'GLOBAL':
                raw = b'c' + data.replace(b' ', b'\n', 1) + b'\n'
            elif op.name == 'SHORT_BINUNICODE':
                raw = b'\x8c' + bytes([len(data)]) + data
            elif op.name == 'BINUNICODE':
                raw = b'X' + len(data).to_bytes(4, 'little') + data
            elif op.name == 'UNICODE':
                raw = b'V' + data + b'\n'
            else:
                raise AssertionError(op.name)
        out += raw
    assert b'numpy._core' not in out
    return bytes(out)


def pyskl_annotations(dim: int, seed: int = 0):
    """A small pyskl-style file: 2D (HRNet, with scores) or 3D (Kinect)."""
    rng = np.random.default_rng(seed)
    annos = []
    for i in range(4):
        frames = 5 + i
        anno = dict(
            frame_dir=f'S001C001P00{i}R001A00{i + 1}',
            label=i % 3,
            total_frames=frames)
        if dim == 2:
            anno.update(
                img_shape=(1080, 1920),
                original_shape=(1080, 1920),
                keypoint=rng.uniform(0, 1000,
                                     (2, frames, 17, 2)).astype(np.float32),
                keypoint_score=rng.uniform(0, 1,
                                           (2, frames, 17)).astype(np.float16))
        else:
            anno['keypoint'] = rng.normal(size=(1, frames, 25,
                                                3)).astype(np.float32)
        annos.append(anno)
    ids = [a['frame_dir'] for a in annos]
    return dict(
        split=dict(xsub_train=ids[:3], xsub_val=ids[3:]), annotations=annos)


def assert_same(a, b, where='obj'):
    """Deep equality that also compares types, dtypes and shapes."""
    assert type(a) is type(b), (where, type(a), type(b))
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        if a.dtype == object:
            for i, (x, y) in enumerate(zip(a.ravel(), b.ravel())):
                assert_same(x, y, f'{where}[{i}]')
        else:
            np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            assert_same(a[k], b[k], f'{where}[{k!r}]')
        if isinstance(a, collections.defaultdict):
            assert a.default_factory is b.default_factory
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f'{where}[{i}]')
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b, (where, a, b)


def plain_values():
    """Everything the allowlist admits, in one dict."""
    return dict(
        f32=np.arange(6, dtype=np.float32).reshape(2, 3),
        f16=np.ones((2, 2), np.float16),
        i64=np.arange(3, dtype=np.int64),
        u8=np.arange(4, dtype=np.uint8),
        boolean=np.array([True, False]),
        fortran=np.asfortranarray(np.ones((3, 2))),
        strided=np.arange(20.)[::3],
        zero_d=np.array(2.5),
        empty=np.zeros((0, 3), np.float32),
        unicode=np.array(['ab', 'c']),
        objects=np.array(['x', 1, None, (2, 3)], dtype=object),
        structured=np.zeros(
            3, dtype=[('x', '<f4'), ('n', '<i8'), ('s', 'U4')]),
        struct_dtype=np.dtype([('a', 'f4', (2, )), ('b', '>i2')]),
        dtype=np.dtype('float32'),
        dtype_class=type(np.dtype('float32')),
        scalar_type=np.float32,
        f32_scalar=np.float32(1.5),
        i64_scalar=np.int64(-7),
        bool_scalar=np.bool_(True),
        str_scalar=np.str_('abc'),
        complex_scalar=np.complex64(1 + 2j),
        nan=float('nan'),
        big_int=2**100,
        text='ünïcode',
        raw=b'\x00\xffbytes',
        empty_bytes=b'',
        buffer=bytearray(b'abc'),
        a_set={1, 2},
        a_frozenset=frozenset({'a'}),
        a_complex=3 - 1j,
        a_slice=slice(1, 10, 2),
        a_range=range(2, 9, 3),
        nested=[(1, [2, {
            'k': (None, True)
        }])],
        ordered=collections.OrderedDict([('b', 1), ('a', 2)]),
        counter=collections.Counter('hello'),
        default_list=collections.defaultdict(list, {1: [2]}),
        default_nested=collections.defaultdict(collections.defaultdict),
        none=None)


class Plain:
    """An ordinary class: pickles of its objects name it."""


class Evil:
    """A payload: unpickling it runs ``func(*args)``."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def touch_command(marker) -> str:
    return f'{sys.executable} -c "open({str(marker)!r}, \'w\')"'


# --------------------------------------------------------------------------
# what loads
# --------------------------------------------------------------------------
@pytest.mark.parametrize('protocol', PROTOCOLS)
def test_plain_values_round_trip(protocol):
    obj = plain_values()
    assert_same(obj, safe_pickle_loads(pickle.dumps(obj, protocol=protocol)))


@pytest.mark.parametrize('protocol', [2, 4, 5])
@pytest.mark.parametrize('dim', [2, 3])
def test_pyskl_annotation_files(tmp_path, protocol, dim):
    data = pyskl_annotations(dim)
    path = tmp_path / f'ntu_{dim}d.pkl'
    path.write_bytes(pickle.dumps(data, protocol=protocol))
    assert_same(data, safe_pickle_load(path))
    assert_same(data, safe_pickle_load(str(path)))
    assert_same(data, safe_load(path))


@pytest.mark.parametrize('protocol', [0, 2, 4, 5])
def test_numpy1_pickles(protocol):
    """Pickles written by numpy 1.x (module ``numpy.core``) still load."""
    obj = dict(plain_values(), annos=pyskl_annotations(2))
    payload = as_numpy1(pickle.dumps(obj, protocol=protocol))
    assert b'numpy.core' in payload
    assert_same(obj, safe_pickle_loads(payload))
    # the rewritten stream is a valid pickle for the stock unpickler too
    assert_same(obj, pickle.loads(payload))


def test_numpy1_protocol5_frombuffer_by_hand():
    """``numpy.core.numeric._frombuffer`` of protocol 5, opcodes written out:

    PROTO 5, STACK_GLOBAL(numpy.core.numeric, _frombuffer), BYTEARRAY8, dtype,
    shape, order, TUPLE, REDUCE.
    """
    data = np.arange(3, dtype='<i4').tobytes()
    payload = (
        b'\x80\x05'  # PROTO 5
        b'\x8c\x12numpy.core.numeric\x8c\x0b_frombuffer\x93'  # callable
        b'(\x96' + len(data).to_bytes(8, 'little') + data +  # MARK, buffer
        b'\x8c\x05numpy\x8c\x05dtype\x93\x8c\x02i4\x89\x88\x87R'  # dtype
        b'K\x03\x85'  # shape (3, )
        b'\x8c\x01C'  # order
        b'tR.')  # TUPLE, REDUCE, STOP
    out = safe_pickle_loads(payload)
    np.testing.assert_array_equal(out, [0, 1, 2])
    assert out.dtype == np.int32


def test_mmengine_dump_and_json(tmp_path):
    """mmengine.dump's pickles (protocol 2) and JSON load through safe_load."""
    obj = dict(a=np.arange(3), b=[1, 'x'], c=np.float32(2))
    mmengine.dump(obj, str(tmp_path / 'x.pkl'))
    assert_same(obj, safe_load(tmp_path / 'x.pkl'))
    (tmp_path / 'x.pickle').write_bytes(pickle.dumps(obj))
    assert_same(obj, safe_load(tmp_path / 'x.pickle'))
    mmengine.dump(
        dict(stream='j', checkpoint='e.pth', finished=1.5),
        str(tmp_path / 'done.json'))
    assert safe_load(tmp_path / 'done.json')['checkpoint'] == 'e.pth'
    (tmp_path / 'c.yaml').write_text('a: [1, 2]\nb: x\n')
    assert safe_load(tmp_path / 'c.yaml') == dict(a=[1, 2], b='x')
    (tmp_path / 'c.yml').write_text('- 1\n')
    assert safe_load(tmp_path / 'c.yml') == [1]


def test_score_dump_of_dump_skeleton_scores(tmp_path):
    """The real writer's file loads and passes the fusion checks."""
    out_file = tmp_path / 'scores.pkl'
    metric = DumpSkeletonScores(out_file=str(out_file), score_space='logit')
    metric.dataset_meta = dict(classes=('wave', 'punch', 'kick'))
    rng = np.random.default_rng(0)
    metric.process(None, [
        dict(
            frame_dir=f'vid{i}',
            sample_idx=i,
            pred_score=torch.from_numpy(rng.normal(size=3).astype(np.float32)),
            gt_label=torch.tensor([i % 3])) for i in (2, 0, 1)
    ])
    metric.evaluate(size=3)
    with open(out_file, 'rb') as f:
        expected = pickle.load(f)  # trusted: written just now
    assert_same(expected, safe_pickle_load(out_file))
    dump = load_score_dump(out_file)
    assert dump['frame_dir'] == ['vid0', 'vid1', 'vid2']
    assert dump['classes'] == ['wave', 'punch', 'kick']
    assert dump['scores'].dtype == np.float32


def test_ensemble_and_label_fraction_outputs(tmp_path):
    """Files the tools write (fusion JSON, a HIGHEST_PROTOCOL pickle) load
    back."""
    from helpers import REPO_ROOT, run_tool
    labels = np.array([0, 1, 2, 1])
    paths = []
    for i in range(2):
        dump = dict(
            frame_dir=[f's{k}' for k in range(4)],
            sample_idx=np.arange(4),
            scores=np.eye(3, dtype=np.float32)[labels],
            labels=labels,
            score_space='prob',
            classes=['a', 'b', 'c'])
        paths.append(tmp_path / f'{i}.pkl')
        mmengine.dump(dump, str(paths[-1]))
    data = pyskl_annotations(3)
    src = tmp_path / 'src.pkl'
    src.write_bytes(pickle.dumps(data))
    run_tool([
        f'{REPO_ROOT}/tools/data/make_label_fraction_split.py', src,
        tmp_path / 'frac.pkl', '--fractions', '50', '--split', 'xsub_train'
    ])
    out = safe_pickle_load(tmp_path / 'frac.pkl')
    assert 'xsub_train_50pct' in out['split']
    assert_same(data['annotations'], out['annotations'])
    run_tool(['tools/ensemble.py'] + paths +
             ['--out-json', tmp_path / 'f.json'])
    fused = safe_load(tmp_path / 'f.json')
    assert fused == json.loads((tmp_path / 'f.json').read_text())
    assert fused['rows'][-1]['top1'] == 1.0


def test_allowlist_holds_both_numpy_paths_and_nothing_dangerous():
    allowed = allowed_globals()
    for prefix in ('numpy.core', 'numpy._core'):
        assert (f'{prefix}.multiarray', '_reconstruct') in allowed
        assert (f'{prefix}.multiarray', 'scalar') in allowed
        assert (f'{prefix}.numeric', '_frombuffer') in allowed
    assert ('numpy.dtypes', 'Float32DType') in allowed
    for module, name in allowed:
        assert module in ('builtins', 'collections', '_codecs') or \
            module == 'numpy' or module.startswith('numpy.'), module
        assert name not in ('eval', 'exec', 'getattr', '__import__', 'open',
                            'compile', 'load', 'loads', 'fromfile')
        assert not name.startswith('_') or name in ('_reconstruct',
                                                    '_frombuffer')
    assert issubclass(UnsafePickleError, pickle.UnpicklingError)


# --------------------------------------------------------------------------
# what is refused
# --------------------------------------------------------------------------
def refused_payloads(marker):
    """(description, pickle bytes) of payloads that would create ``marker`` (or
    otherwise reach code) if loaded by pickle.load."""
    code = f'open({str(marker)!r}, "w").close()'
    import builtins

    payloads = [
        ('os.system', pickle.dumps(Evil(os.system, touch_command(marker)))),
        ('subprocess.Popen',
         pickle.dumps(Evil(subprocess.Popen, ['touch', str(marker)]))),
        ('builtins.eval', pickle.dumps(Evil(builtins.eval, code))),
        ('builtins.exec', pickle.dumps(Evil(builtins.exec, code))),
        ('builtins.getattr',
         pickle.dumps(Evil(getattr, Evil(__import__, 'os'), 'system'))),
        ('builtins.__import__', pickle.dumps(Evil(__import__, 'os'))),
        ('builtins.open', pickle.dumps(Evil(open, str(marker), 'w'))),
        ('copyreg._reconstructor', pickle.dumps(Plain(), protocol=0)),
        ('a class of the test module', pickle.dumps(Plain(), protocol=4)),
        ('torch tensor', pickle.dumps(torch.zeros(2))),
        ('numpy.load', pickle.dumps(Evil(np.load, str(marker)))),
        ('protocol 0 __builtin__.eval',
         b'c__builtin__\neval\n(V' + code.encode() + b'\ntR.'),
        ('unknown module', b'cantigravity\nfly\n)R.'),
    ]
    for proto in (0, 2, 4, 5):
        payloads.append((f'os.system, protocol {proto}',
                         pickle.dumps(
                             Evil(os.system, touch_command(marker)),
                             protocol=proto)))
    # inside a perfectly normal annotation file
    data = pyskl_annotations(3)
    data['annotations'][2]['keypoint'] = Evil(os.system, touch_command(marker))
    payloads.append(('nested in annotations', pickle.dumps(data)))
    return payloads


REFUSED = [what for what, _ in refused_payloads('m')]


@pytest.mark.parametrize('what', REFUSED)
def test_refused_globals_never_run(tmp_path, what):
    marker = tmp_path / 'MARKER'
    payload = dict(refused_payloads(marker))[what]
    path = tmp_path / 'evil.pkl'
    path.write_bytes(payload)
    modules = set(sys.modules)
    with pytest.raises(UnsafePickleError) as info:
        safe_pickle_load(path)
    msg = str(info.value)
    assert msg.startswith(f'{path}: refused to unpickle global '), msg
    assert 'only plain containers, numbers, strings and numpy arrays' in msg
    assert not marker.exists(), what
    assert 'antigravity' not in set(sys.modules) - modules
    with pytest.raises(pickle.UnpicklingError, match='source.pkl: refused'):
        safe_pickle_loads(payload, source='source.pkl')
    assert not marker.exists(), what


def test_refusal_names_the_global():
    payload = pickle.dumps(Evil(os.system, 'true'))
    with pytest.raises(
            UnsafePickleError,
            match=r"refused to unpickle global '(posix|nt)\."
            r"system'"):
        safe_pickle_loads(payload)
    with pytest.raises(UnsafePickleError, match="'builtins.eval'"):
        safe_pickle_loads(pickle.dumps(Evil(eval, '1')))
    with pytest.raises(UnsafePickleError, match="'__builtin__.eval'"):
        safe_pickle_loads(b'c__builtin__\neval\n(V1\ntR.')


def test_allowlisted_callables_with_bad_arguments_are_refused():
    # a defaultdict whose factory is an allowed global but not a container
    payload = pickle.dumps(collections.defaultdict(list, {1: 2}), protocol=2)
    bad = payload.replace(b'c__builtin__\nlist\n', b'cnumpy\nndarray\n')
    assert bad != payload
    with pytest.raises(UnsafePickleError, match='default_factory'):
        safe_pickle_loads(bad)
    # _codecs.encode may only turn text into latin-1/utf-8 bytes
    rot13 = b'c_codecs\nencode\n(Vabc\nVrot13\ntR.'
    with pytest.raises(UnsafePickleError, match='_codecs.encode'):
        safe_pickle_loads(rot13)
    assert safe_pickle_loads(b'c_codecs\nencode\n(Vabc\nVlatin1\ntR.') == \
        b'abc'


def test_persistent_ids_are_refused():
    payload = b'\x80\x02X\x03\x00\x00\x00pidQ.'  # BINPERSID
    with pytest.raises(UnsafePickleError, match='persistent id'):
        safe_pickle_loads(payload)


def test_unpickler_class_is_usable_directly(tmp_path):
    import io
    buf = io.BytesIO(pickle.dumps([np.arange(2)]))
    out = SafeUnpickler(buf, source='buf').load()
    np.testing.assert_array_equal(out[0], [0, 1])
    with pytest.raises(UnsafePickleError, match='^buf: refused'):
        SafeUnpickler(io.BytesIO(pickle.dumps(Evil(eval, '1'))), 'buf').load()


# --------------------------------------------------------------------------
# unreadable files
# --------------------------------------------------------------------------
def test_garbage_truncated_and_empty_files(tmp_path):
    good = pickle.dumps(pyskl_annotations(2), protocol=4)
    cases = [b'', b'not a pickle at all', good[:len(good) // 2], good[:-1]]
    cases += [np.random.default_rng(s).bytes(64) for s in range(200)]
    for i, payload in enumerate(cases):
        path = tmp_path / f'bad{i}.pkl'
        path.write_bytes(payload)
        with pytest.raises(pickle.UnpicklingError) as info:
            safe_pickle_load(path)
        assert str(info.value).startswith(f'{path}: '), (i, info.value)
    with pytest.raises(
            pickle.UnpicklingError,
            match=r'^x: not a readable pickle \(EOFError'):
        safe_pickle_loads(b'', source='x')


def test_missing_files_and_bad_suffixes(tmp_path):
    for name in ('nope.pkl', 'nope.json', 'nope.yaml'):
        with pytest.raises(FileNotFoundError, match=f'{name}: no such file'):
            safe_load(tmp_path / name)
    with pytest.raises(FileNotFoundError, match='no such file'):
        safe_pickle_load(tmp_path / 'nope.pkl')
    (tmp_path / 'x.txt').write_text('1')
    with pytest.raises(ValueError, match='unknown file type'):
        safe_load(tmp_path / 'x.txt')


def test_malformed_and_unsafe_json_yaml(tmp_path):
    marker = tmp_path / 'MARKER'
    (tmp_path / 'bad.json').write_text('{"a": ')
    with pytest.raises(ValueError, match='bad.json: not valid JSON'):
        safe_load(tmp_path / 'bad.json')
    evil = tmp_path / 'evil.yaml'
    evil.write_text(f'!!python/object/apply:os.system '
                    f'[{json.dumps(touch_command(marker))}]\n')
    with pytest.raises(ValueError, match='evil.yaml: not valid YAML'):
        safe_load(evil)
    assert not marker.exists()


# --------------------------------------------------------------------------
# numpy memory tricks (allowlisted names, dangerous calls or states)
# --------------------------------------------------------------------------
def test_numpy_memory_tricks_are_refused():
    """Each payload would make numpy read raw bytes as objects (or allocate
    without bound); they are loaded in a fresh process, which a regression
    could crash."""
    from helpers import REPO_ROOT
    from numpy_payloads import PAYLOADS
    here = os.path.dirname(os.path.abspath(__file__))
    proc = subprocess.run([
        sys.executable,
        os.path.join(here, 'numpy_payloads.py'),
        os.path.join(REPO_ROOT, 'mmcsre', 'fileio', 'safe_pickle.py')
    ],
                          capture_output=True,
                          text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r['name'] for r in results] == list(PAYLOADS)
    for r in results:
        assert r['error'] in ('UnsafePickleError', 'UnpicklingError'), r
        assert r['msg'].startswith(f"{r['name']}: "), r
    refused = {r['name']: r['msg'] for r in results}
    assert "refused to call 'numpy.ndarray'" in refused[
        'ndarray over a buffer']
    assert 'overlapping object fields' in refused['overlapping object field']
    assert 'differs from what numpy builds' in refused[
        'object dtype without its flags']
    assert 'refused to set the state' in refused['dtype changed after use']


def test_numpy_payloads_are_live_for_the_stock_unpickler():
    """The dtype payloads do make dangerous dtypes under pickle.loads (the
    dtypes are only built here, never used for an array)."""
    from numpy_payloads import LIVE_DTYPES, PAYLOADS
    overlap, no_flags, hidden = (
        pickle.loads(PAYLOADS[n]) for n in LIVE_DTYPES)
    assert overlap.hasobject and overlap.fields['a'][1] == \
        overlap.fields['b'][1] == 0
    assert no_flags == np.dtype(object) and not no_flags.hasobject
    assert 'evil' in hidden.fields and not hidden.hasobject


def test_numpy_dtype_variety_round_trips():
    """Dtypes numpy itself makes pass the dtype check (aligned, titled, nested,
    subarray, object fields, datetime, metadata)."""
    dtypes = [
        np.dtype([('a', 'u1'), ('b', '<f8')], align=True),
        np.dtype({
            'names': ['x', 'y'],
            'formats': ['i4', 'f4'],
            'titles': ['X', 'Y']
        }),
        np.dtype([('outer', [('i', 'i2'), ('o', 'O')]), ('s', 'U3', (2, ))]),
        np.dtype([('o', 'O'), ('n', '<i8')]),
        np.dtype({
            'names': ['a', 'b'],
            'formats': ['<i4', '<i4'],
            'offsets': [0, 0],
            'itemsize': 4
        }),  # overlapping plain fields are fine
        np.dtype({
            'names': ['a'],
            'formats': ['<f8'],
            'offsets': [8],
            'itemsize': 24
        }),
        np.dtype('M8[ns]'),
        np.dtype('>i2'),
        np.dtype('S5'),
        np.dtype('V7'),
        np.dtype('f4', metadata={'unit': 'm'}),
    ]
    for protocol in PROTOCOLS:
        for dtype in dtypes:
            array = np.zeros(3, dtype=dtype)
            if dtype.hasobject:
                array[...] = np.zeros(1, dtype=dtype)
            for obj in (dtype, array, array[:1]):
                payload = pickle.dumps(obj, protocol=protocol)
                out, stock = safe_pickle_loads(payload), pickle.loads(payload)
                # (the stock unpickler is the reference: numpy itself turns
                # '>i2' arrays native under protocols < 5)
                if isinstance(obj, np.dtype):
                    assert out == stock == obj, (protocol, dtype)
                else:
                    assert out.dtype == stock.dtype, (protocol, dtype)
                    if not dtype.hasobject:
                        assert out.tobytes() == stock.tobytes()
