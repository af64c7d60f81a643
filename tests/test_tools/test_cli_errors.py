"""Every command line under tools/ (any ``tools/**/*.py`` with a ``__main__``
block) ends a run on a missing input with one ``error: PATH...`` line on stderr
and exit status 2, never a traceback, and its ``--help`` description is a whole
sentence.

A new tool is found automatically; it fails
``test_every_tool_is_in_the_table`` until :data:`MISSING_INPUT` says which
arguments make it read a missing file.

Each run is a process of its own, as ``python TOOL ARGS``; to keep the file
fast, the processes are forked from one that imported mmcsre already
(``cli_helpers/fork_tools.py``; fresh interpreters where there is no fork).
"""
import concurrent.futures
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
from helpers import REPO_ROOT

MAIN_BLOCK = re.compile(r'''^if __name__ == ['"]__main__['"]:''', re.M)


def discover_tools():
    """Repository-relative paths of the tools with a ``__main__`` block."""
    paths = glob.glob(
        osp.join(REPO_ROOT, 'tools', '**', '*.py'), recursive=True)
    found = []
    for path in sorted(paths):
        with open(path, encoding='utf-8') as f:
            if MAIN_BLOCK.search(f.read()):
                found.append(osp.relpath(path, REPO_ROOT))
    return found


TOOLS = discover_tools()
# Arguments that make each tool read a missing input: ``{missing}`` is a
# path under a folder that does not exist, ``{tmp}`` a scratch folder (the
# working directory of the run).
OUT = ['--out-dir', '{tmp}/out']
MISSING_INPUT = {
    'tools/train.py': ['{missing}.py', '--work-dir', '{tmp}/work'],
    'tools/test.py': ['{missing}.py', '{missing}.pth'],
    'tools/strip_checkpoint.py': ['{missing}.py', 'x.pth', 'out.pth'],
    'tools/ensemble.py': ['{missing}.pkl'],
    'tools/train_streams.py': ['{missing}.py', '--work-dir', '{tmp}/w'],
    'tools/run_sweep.py':
    ['--work-dir', '{tmp}/w', '--arms', 'a={missing}.py', '--seeds', '0'],
    'tools/export_project.py':
    ['csre', '--out', '{tmp}/out', '--root', '{missing}'],
    'tools/misc/build_docs.py': ['--check', '--root', '{missing}'],
    'tools/misc/add_metafile_entries.py': ['--root', '{missing}'],
    'tools/misc/generate_stream_configs.py':
    ['--check', '--root', '{missing}'],
    'tools/data/check_pkl.py': ['{missing}.pkl'],
    'tools/data/make_label_fraction_split.py':
    ['{missing}.pkl', '{tmp}/out.pkl'],
    'tools/data/nwucla/nwucla_to_pkl.py': ['{missing}.zip', '{tmp}/out.pkl'],
    'tools/data/ntu/ntu_skeleton_to_pkl.py':
    ['{missing}', '{tmp}/out.pkl', '--benchmark', 'ntu60'],
    'tools/data/kinetics/kinetics_to_pkl.py': ['{missing}', '{tmp}/out.pkl'],
    'tools/analysis/class_accuracy_diff.py':
    ['{missing}.pkl', '{missing}.pkl'] + OUT,
    'tools/analysis/compare_runs.py':
    ['--baseline', '{missing}.pkl', 'b1.pkl', '--method', 'm0.pkl', 'm1.pkl'] +
    OUT,
    'tools/analysis/confusion_matrix.py': ['{missing}.pkl'] + OUT,
    'tools/analysis/difficulty_levels.py': ['{missing}.pkl'] + OUT,
    'tools/analysis/extract_features.py':
    ['{missing}.py', '{missing}.pth', '--out', '{tmp}/f.npz'],
    'tools/analysis/feature_embedding.py': ['{missing}.npz'] + OUT,
    'tools/analysis/knn_eval.py': ['{missing}.py', '{missing}.pth'] + OUT,
    'tools/analysis/model_complexity.py': ['{missing}.py'] + OUT,
    'tools/analysis/training_consumption.py': ['{missing}.py'] + OUT,
}
FORK_TOOLS = osp.join(
    osp.dirname(osp.abspath(__file__)), 'cli_helpers', 'fork_tools.py')


def run_tools(jobs):
    """Run ``(tool, args, cwd)`` jobs, each in its own process, as ``python
    TOOL ARGS`` in ``cwd`` would: a list of ``{'returncode', 'stdout',
    'stderr'}``.

    With ``fork`` the processes are children of one that imported mmcsre
    (cli_helpers/fork_tools.py), else fresh interpreters.
    """
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = REPO_ROOT + os.pathsep + env.get('PYTHONPATH', '')
    specs = [
        dict(tool=osp.join(REPO_ROOT, t), args=a, cwd=c) for t, a, c in jobs
    ]
    if hasattr(os, 'fork'):
        proc = subprocess.run([sys.executable, FORK_TOOLS],
                              input=json.dumps(specs),
                              env=env,
                              capture_output=True,
                              text=True,
                              timeout=600)
        assert proc.returncode == 0, proc.stderr[-4000:]
        return json.loads(proc.stdout)

    def fresh(spec):
        proc = subprocess.run(
            [sys.executable, spec['tool']] + spec['args'],
            cwd=spec['cwd'],
            env=env,
            capture_output=True,
            text=True,
            timeout=300)
        return dict(
            returncode=proc.returncode, stdout=proc.stdout, stderr=proc.stderr)

    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        return list(pool.map(fresh, specs))


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """Every tool run on its missing input and with ``--help``: ``{(tool,
    'missing' | 'help'): (missing path, result)}``."""
    tmp = tmp_path_factory.mktemp('cli_errors')
    keys, jobs, missing = [], [], {}
    for tool in TOOLS:
        for kind in ('missing', 'help'):
            work = tmp / kind / tool.replace('/', '_')
            work.mkdir(parents=True)
            path = str(work / 'no_such_folder' / 'input')
            if kind == 'help':
                args = ['--help']
            elif tool in MISSING_INPUT:
                args = [
                    a.format(missing=path, tmp=work)
                    for a in MISSING_INPUT[tool]
                ]
            else:
                continue
            keys.append((tool, kind))
            jobs.append((tool, args, str(work)))
            missing[tool, kind] = path
    return {
        key: (missing[key], result)
        for key, result in zip(keys, run_tools(jobs))
    }


def _output(result):
    return (f"exit status {result['returncode']}\nstdout:\n"
            f"{result['stdout'][-2000:]}\nstderr:\n{result['stderr'][-4000:]}")


def test_every_tool_is_in_the_table():
    assert len(TOOLS) >= 20, TOOLS
    missing = sorted(set(TOOLS) - set(MISSING_INPUT))
    assert not missing, (
        f'add {missing} to MISSING_INPUT in {__file__}: the arguments that '
        'make the tool read a missing file')
    stale = sorted(set(MISSING_INPUT) - set(TOOLS))
    assert not stale, f'{stale} in MISSING_INPUT are no tools any more'


@pytest.mark.parametrize('tool', TOOLS)
def test_missing_input_is_one_error_line(tool, runs):
    if (tool, 'missing') not in runs:
        pytest.fail(f'{tool} is not in MISSING_INPUT')
    missing, result = runs[tool, 'missing']
    stderr = result['stderr']
    assert 'Traceback' not in stderr, _output(result)
    assert result['returncode'] == 2, _output(result)
    last = stderr.strip().splitlines()[-1] if stderr.strip() else ''
    assert last.startswith('error: '), _output(result)
    assert missing in last, _output(result)


@pytest.mark.parametrize('tool', TOOLS)
def test_help_description_is_a_whole_sentence(tool, runs):
    _, result = runs[tool, 'help']
    assert result['returncode'] == 0, _output(result)
    # usage (no blank line in it), a blank line, then the description
    blocks = result['stdout'].split('\n\n')
    assert blocks[0].startswith('usage:') and len(blocks) > 1, \
        _output(result)
    description = ' '.join(blocks[1].split())
    assert not description.startswith(('positional arguments', 'options')), \
        f'{tool} --help has no description'
    assert description.endswith('.'), f'{tool}: {description!r}'
    # Brackets and backquotes are balanced: not cut mid-sentence.
    for left, right in ('()', '[]'):
        assert description.count(left) == description.count(right), \
            description
    assert description.count('``') % 2 == 0, description


def test_run_cli_names_the_missing_file(tmp_path, capsys):
    """The shared plumbing: ``open``'s FileNotFoundError, a converter's own
    one, :func:`require_folder` and a listed error type."""
    from mmcsre.utils.cli import CLIError, require_folder, run_cli
    absent = tmp_path / 'absent'

    def fails(main, errors=()):
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_:
            run_cli(main, errors)
        assert exit_.value.code == 2
        return capsys.readouterr().err

    assert fails(lambda: open(absent)) == \
        f'error: {absent}: no such file or folder\n'

    def converter():
        raise FileNotFoundError(f'{absent}: no such label file')

    assert fails(converter) == f'error: {absent}: no such label file\n'
    assert fails(lambda: require_folder(str(absent), 'config folder')) == \
        f'error: {absent}: no such config folder\n'
    require_folder(str(tmp_path))
    with pytest.raises(CLIError):
        require_folder(str(tmp_path / 'absent'))

    def bad_value():
        raise ValueError('bad --k')

    assert fails(bad_value, (ValueError, )) == 'error: bad --k\n'
