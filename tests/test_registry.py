"""``import mmcsre`` registers its modules in mmaction2's registries."""
import subprocess
import sys


def test_import_registers_into_mmaction_scope():
    code = ('import mmcsre\n'
            'from mmaction.registry import DATASETS, METRICS, TRANSFORMS\n'
            'assert DATASETS.scope == "mmaction"\n'
            'for reg, name in [(DATASETS, "SkeletonDataset"),\n'
            '                  (DATASETS, "SyntheticSkeletonDataset"),\n'
            '                  (TRANSFORMS, "SkeletonPreNormalize"),\n'
            '                  (TRANSFORMS, "SkeletonStreamFeature"),\n'
            '                  (METRICS, "DumpSkeletonScores")]:\n'
            '    assert reg.get(name) is not None, name\n'
            'print("ok")\n')
    out = subprocess.run([sys.executable, '-c', code],
                         capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == 'ok'


def test_version():
    import mmcsre
    assert mmcsre.__version__ == '.'.join(str(x) for x in mmcsre.version_info)
