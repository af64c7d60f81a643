"""Install mmcsre: ``pip install -r requirements.txt -e .``"""
import os.path as osp
import re
from setuptools import find_packages, setup
from typing import List

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name: str) -> List[str]:
    """Package requirements from ``requirements/<name>.txt``."""
    reqs = []
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line and not line.startswith('-'):
                reqs.append(line)
    return reqs


def get_version() -> str:
    with open(osp.join(HERE, 'mmcsre', 'version.py')) as f:
        return re.search(r"__version__ = '([^']+)'", f.read()).group(1)


def readme() -> str:
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        return f.read()


setup(
    name='mmcsre',
    version=get_version(),
    description='Contrastive spatiotemporal representation enhancement '
    '(CSRE) and related methods for skeleton action recognition, as an '
    'mmaction2 extension',
    long_description=readme(),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    python_requires='>=3.8',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs')),
    include_package_data=True,
    package_data={
        'mmcsre.datasets.converters': ['data/*.txt'],
        'mmcsre.analysis': ['label_maps/*.txt'],
    },
    install_requires=read_requirements('runtime'),
    extras_require={
        'tests': read_requirements('tests'),
        'analysis': read_requirements('analysis'),
    },
    classifiers=[
        'Programming Language :: Python :: 3',
        'License :: OSI Approved :: Apache Software License',
        'Operating System :: OS Independent',
    ],
    zip_safe=False)
