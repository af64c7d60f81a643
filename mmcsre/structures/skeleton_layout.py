"""Skeleton layouts: joints, bones and the reference joints used to normalise.

A layout is a tree of ``num_node`` joints rooted at ``center``. ``inward``
lists one ``(child, parent)`` edge per non-centre joint, the convention of
mmaction2's :class:`~mmaction.models.utils.Graph`, so ``layout.graph_cfg()``
can be passed to its GCN backbones unchanged.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

Edge = Tuple[int, int]


@dataclass(frozen=True)
class SkeletonLayout:
    """A skeleton layout.

    Args:
        name (str): Name of the layout.
        num_node (int): Number of joints V.
        inward (Sequence[tuple[int, int]]): ``(child, parent)`` edges
            pointing towards ``center``; together they must form a tree
            that covers every joint.
        center (int): Root joint of the tree (the graph centre).
        origin (int, optional): Joint moved to the origin by
            pre-normalisation. Defaults to ``center``.
        spine (tuple[int, int], optional): ``(bottom, top)`` joints whose
            vector pre-normalisation aligns with +z. Defaults to None.
        shoulders (tuple[int, int], optional): ``(right, left)`` joints
            whose vector pre-normalisation aligns with +x. Defaults to None.
        joint_names (Sequence[str], optional): Names of the joints.
            Defaults to () (unnamed).
    """

    name: str
    num_node: int
    inward: Tuple[Edge, ...]
    center: int
    origin: Optional[int] = None
    spine: Optional[Edge] = None
    shoulders: Optional[Edge] = None
    joint_names: Tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        """Normalise the edges to int tuples and validate the layout."""
        object.__setattr__(self, 'inward',
                           tuple((int(a), int(b)) for a, b in self.inward))
        object.__setattr__(self, 'joint_names', tuple(self.joint_names))
        if self.origin is None:
            object.__setattr__(self, 'origin', self.center)
        self._check()

    def _check(self) -> None:
        """Raise ``ValueError`` unless the edges form a tree rooted at
        ``center`` and every named joint exists."""
        V = self.num_node
        where = f'skeleton layout {self.name!r}'
        if V < 1:
            raise ValueError(f'{where}: num_node must be >= 1, got {V}')
        for key in ('center', 'origin'):
            j = getattr(self, key)
            if not 0 <= j < V:
                raise ValueError(f'{where}: {key}={j} not in [0, {V})')
        for key in ('spine', 'shoulders'):
            pair = getattr(self, key)
            if pair is not None and not all(0 <= j < V for j in pair):
                raise ValueError(f'{where}: {key}={pair} not in [0, {V})')
        children = [c for c, _ in self.inward]
        for c, p in self.inward:
            if not (0 <= c < V and 0 <= p < V) or c == p:
                raise ValueError(f'{where}: bad edge {(c, p)} for {V} joints')
        expected = set(range(V)) - {self.center}
        if len(children) != len(set(children)) or set(children) != expected:
            raise ValueError(
                f'{where}: inward edges must give every joint except the '
                f'center ({self.center}) exactly one parent; children are '
                f'{sorted(children)}')
        parent = self.parents
        for j in range(V):  # every joint must reach the centre (no cycles)
            seen, k = 0, j
            while k != self.center:
                k, seen = int(parent[k]), seen + 1
                if seen > V:
                    raise ValueError(f'{where}: inward edges form a cycle '
                                     f'through joint {j}')
        if self.joint_names and len(self.joint_names) != V:
            raise ValueError(f'{where}: {len(self.joint_names)} joint names '
                             f'for {V} joints')

    @property
    def parents(self) -> np.ndarray:
        """np.ndarray: (V,) parent of each joint; the centre is its own."""
        parent = np.full(self.num_node, self.center, dtype=np.int64)
        for c, p in self.inward:
            parent[c] = p
        return parent

    @property
    def bone_pairs(self) -> List[Edge]:
        """list[tuple[int, int]]: ``(joint, parent)`` for every joint.

        The bone of joint ``v`` is ``x[v] - x[parent[v]]``; the centre's bone
        is zero.
        """
        return [(v, int(p)) for v, p in enumerate(self.parents)]

    def graph_cfg(self) -> Dict:
        """The layout as the dict mmaction2's ``Graph(layout=...)`` takes."""
        return dict(
            num_node=self.num_node,
            inward=[list(e) for e in self.inward],
            center=self.center)

    @classmethod
    def from_dict(cls, cfg: Dict) -> 'SkeletonLayout':
        """Build a layout from a dict with at least ``num_node``, ``inward``
        and ``center`` (the form mmaction2's Graph takes); other fields of
        :class:`SkeletonLayout` are optional."""
        missing = [k for k in ('num_node', 'inward', 'center') if k not in cfg]
        if missing:
            raise ValueError(f'a custom skeleton layout needs {missing} '
                             f'(got keys {sorted(cfg)})')
        known = set(cls.__dataclass_fields__)
        unknown = set(cfg) - known
        if unknown:
            raise ValueError(
                f'unknown skeleton layout field(s) {sorted(unknown)}'
                f'; known: {sorted(known)}')
        cfg = dict(cfg)
        cfg.setdefault('name', 'custom')
        for key in ('spine', 'shoulders'):
            if cfg.get(key) is not None:
                cfg[key] = tuple(cfg[key])
        return cls(**cfg)


def _one_based(edges: Sequence[Edge]) -> Tuple[Edge, ...]:
    """Edges given with 1-based joint numbers, made 0-based."""
    return tuple((a - 1, b - 1) for a, b in edges)


NTU_RGBD = SkeletonLayout(
    name='nturgb+d',
    num_node=25,
    inward=_one_based([
        (1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7),
        (9, 21), (10, 9), (11, 10), (12, 11), (13, 1), (14, 13), (15, 14),
        (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (22, 23), (23, 8),
        (24, 25), (25, 12)
    ]),
    center=20,
    origin=1,
    spine=(0, 1),
    shoulders=(8, 4),
    joint_names=('spine_base', 'spine_mid', 'neck', 'head', 'shoulder_left',
                 'elbow_left', 'wrist_left', 'hand_left', 'shoulder_right',
                 'elbow_right', 'wrist_right', 'hand_right', 'hip_left',
                 'knee_left', 'ankle_left', 'foot_left', 'hip_right',
                 'knee_right', 'ankle_right', 'foot_right', 'spine_shoulder',
                 'handtip_left', 'thumb_left', 'handtip_right', 'thumb_right'))

# Kinect v1 order, as in the NW-UCLA ``all_sqe`` release.
NW_UCLA = SkeletonLayout(
    name='nw-ucla',
    num_node=20,
    inward=_one_based([(1, 2), (2, 3), (4, 3), (5, 3), (6, 5), (7, 6), (8, 7),
                       (9, 3), (10, 9), (11, 10), (12, 11), (13, 1), (14, 13),
                       (15, 14), (16, 15), (17, 1), (18, 17), (19, 18),
                       (20, 19)]),
    center=2,
    origin=1,
    spine=(0, 1),
    shoulders=(8, 4),
    joint_names=('hip_center', 'spine', 'shoulder_center', 'head',
                 'shoulder_left', 'elbow_left', 'wrist_left', 'hand_left',
                 'shoulder_right', 'elbow_right', 'wrist_right', 'hand_right',
                 'hip_left', 'knee_left', 'ankle_left', 'foot_left',
                 'hip_right', 'knee_right', 'ankle_right', 'foot_right'))

COCO = SkeletonLayout(
    name='coco',
    num_node=17,
    inward=((15, 13), (13, 11), (16, 14), (14, 12), (11, 5), (12, 6), (9, 7),
            (7, 5), (10, 8), (8, 6), (5, 0), (6, 0), (1, 0), (3, 1), (2, 0),
            (4, 2)),
    center=0,
    shoulders=(6, 5),
    joint_names=('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
                 'left_shoulder', 'right_shoulder', 'left_elbow',
                 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip',
                 'right_hip', 'left_knee', 'right_knee', 'left_ankle',
                 'right_ankle'))

OPENPOSE = SkeletonLayout(
    name='openpose',
    num_node=18,
    inward=((4, 3), (3, 2), (7, 6), (6, 5), (13, 12), (12, 11), (10, 9),
            (9, 8), (11, 5), (8, 2), (5, 1), (2, 1), (0, 1), (15, 0), (14, 0),
            (17, 15), (16, 14)),
    center=1,
    shoulders=(2, 5),
    joint_names=('nose', 'neck', 'right_shoulder', 'right_elbow',
                 'right_wrist', 'left_shoulder', 'left_elbow', 'left_wrist',
                 'right_hip', 'right_knee', 'right_ankle', 'left_hip',
                 'left_knee', 'left_ankle', 'right_eye', 'left_eye',
                 'right_ear', 'left_ear'))

BUILTIN_LAYOUTS: Dict[str, SkeletonLayout] = {
    layout.name: layout
    for layout in (NTU_RGBD, NW_UCLA, COCO, OPENPOSE)
}


def get_layout(layout: Union[str, Dict, SkeletonLayout]) -> SkeletonLayout:
    """Resolve a layout given by name, dict or instance.

    Args:
        layout (str | dict | SkeletonLayout): A built-in name
            (``'nturgb+d'``, ``'nw-ucla'``, ``'coco'``, ``'openpose'``), a
            custom layout dict (see :meth:`SkeletonLayout.from_dict`), or a
            layout.

    Returns:
        SkeletonLayout: The layout.
    """
    if isinstance(layout, SkeletonLayout):
        return layout
    if isinstance(layout, str):
        if layout not in BUILTIN_LAYOUTS:
            raise ValueError(f'unknown skeleton layout {layout!r}; built-in '
                             f'layouts: {sorted(BUILTIN_LAYOUTS)}, or pass a '
                             'dict with num_node, inward and center')
        return BUILTIN_LAYOUTS[layout]
    if isinstance(layout, dict):
        return SkeletonLayout.from_dict(layout)
    raise TypeError(f'layout must be a str, dict or SkeletonLayout, got '
                    f'{type(layout).__name__}')
