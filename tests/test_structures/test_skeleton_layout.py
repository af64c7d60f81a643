import os.path as osp

import numpy as np
import pytest
from mmaction.datasets.transforms import JointToBone
from mmaction.models.utils import Graph
from mmengine import Config

from mmcsre.structures import (BUILTIN_LAYOUTS, COCO, NTU_RGBD, NW_UCLA,
                               OPENPOSE, SkeletonLayout, get_layout)

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
NWUCLA_CFG = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets',
                      'nwucla_3d_joint.py')

BUILTIN_SIZES = {'nturgb+d': 25, 'nw-ucla': 20, 'coco': 17, 'openpose': 18}


def depth_to_center(layout, joint):
    """Steps from ``joint`` to the centre along ``parents``, or None if the
    walk does not reach the centre within ``num_node`` steps."""
    parents = layout.parents
    steps = 0
    while joint != layout.center:
        joint = int(parents[joint])
        steps += 1
        if steps > layout.num_node:
            return None
    return steps


@pytest.mark.parametrize('name', sorted(BUILTIN_SIZES))
def test_builtin_layout_is_a_tree(name):
    layout = get_layout(name)
    V = BUILTIN_SIZES[name]
    assert layout is BUILTIN_LAYOUTS[name]
    assert layout.name == name
    assert layout.num_node == V
    assert len(layout.inward) == V - 1
    children = [c for c, _ in layout.inward]
    assert sorted(children) == sorted(set(range(V)) - {layout.center})
    for c, p in layout.inward:
        assert 0 <= p < V and c != p
    for j in range(V):
        assert depth_to_center(layout, j) is not None
    assert len(layout.joint_names) == V
    assert len(set(layout.joint_names)) == V
    assert 0 <= layout.origin < V


def test_builtin_registry_has_exactly_the_four_layouts():
    assert set(BUILTIN_LAYOUTS) == set(BUILTIN_SIZES)
    assert BUILTIN_LAYOUTS['nturgb+d'] is NTU_RGBD
    assert BUILTIN_LAYOUTS['nw-ucla'] is NW_UCLA
    assert BUILTIN_LAYOUTS['coco'] is COCO
    assert BUILTIN_LAYOUTS['openpose'] is OPENPOSE


@pytest.mark.parametrize('name', sorted(BUILTIN_SIZES))
def test_parents_and_bone_pairs(name):
    layout = get_layout(name)
    parents = layout.parents
    assert parents.shape == (layout.num_node, )
    assert parents[layout.center] == layout.center
    for c, p in layout.inward:
        assert parents[c] == p
    assert layout.bone_pairs == [(v, int(parents[v]))
                                 for v in range(layout.num_node)]
    # the centre's bone is the only self pair
    assert [v for v, p in layout.bone_pairs if v == p] == [layout.center]


def test_ntu_reference_joints():
    # the joints mmaction2's PreNormalize3D uses: origin = spine (1),
    # z axis from joint 0 to 1, x axis from joint 8 to 4
    assert NTU_RGBD.center == 20
    assert NTU_RGBD.origin == 1
    assert NTU_RGBD.spine == (0, 1)
    assert NTU_RGBD.shoulders == (8, 4)
    assert NTU_RGBD.joint_names[NTU_RGBD.origin] == 'spine_mid'


@pytest.mark.parametrize('name', ['coco', 'openpose'])
def test_graph_cfg_gives_mmaction_adjacency(name):
    ours = Graph(layout=get_layout(name).graph_cfg(), mode='spatial').A
    ref = Graph(layout=name, mode='spatial').A
    assert ours.shape == ref.shape
    np.testing.assert_array_equal(ours, ref)


# mmaction2's Graph('nturgb+d') (copied from pyskl) hangs hand tip and thumb
# both on the hand; its JointToBone (and ST-GCN / 2s-AGCN) chain them
# hand tip -> thumb -> hand. One tree cannot match both; the layout follows
# JointToBone so that bone streams equal mmaction2's GenSkeFeat.
MM_GRAPH_ONLY = {(21, 7), (23, 11)}
OURS_ONLY = {(21, 22), (23, 24)}
HAND_JOINTS = [7, 11, 21, 22, 23, 24]


def test_ntu_graph_cfg_differs_from_mmaction_graph_only_at_hand_tips():
    ref_graph = Graph(layout='nturgb+d', mode='spatial')
    ref_edges = {tuple(e) for e in ref_graph.inward}
    ours_edges = {tuple(e) for e in NTU_RGBD.graph_cfg()['inward']}
    assert ref_edges - ours_edges == MM_GRAPH_ONLY
    assert ours_edges - ref_edges == OURS_ONLY
    assert NTU_RGBD.graph_cfg()['center'] == ref_graph.center
    assert NTU_RGBD.graph_cfg()['num_node'] == ref_graph.num_node

    ours = Graph(layout=NTU_RGBD.graph_cfg(), mode='spatial').A
    ref = ref_graph.A
    assert ours.shape == ref.shape == (3, 25, 25)
    keep = np.setdiff1d(np.arange(25), HAND_JOINTS)
    np.testing.assert_array_equal(ours[:, keep][:, :, keep],
                                  ref[:, keep][:, :, keep])
    assert not np.array_equal(ours, ref)


def test_ntu_bone_pairs_equal_mmaction_joint_to_bone():
    ref = sorted(tuple(p) for p in JointToBone(dataset='nturgb+d').pairs)
    assert sorted(NTU_RGBD.bone_pairs) == ref


def test_nwucla_config_graph_layout_matches_layout():
    cfg = Config.fromfile(NWUCLA_CFG)
    graph = cfg.graph_layout
    ours = get_layout('nw-ucla').graph_cfg()
    assert graph['num_node'] == ours['num_node'] == 20
    assert graph['center'] == ours['center']
    cfg_edges = {tuple(e) for e in graph['inward']}
    assert len(cfg_edges) == len(graph['inward']) == 19
    assert cfg_edges == {tuple(e) for e in ours['inward']}
    assert cfg.layout == 'nw-ucla'
    # and mmaction2's Graph accepts both, giving the same adjacency
    np.testing.assert_array_equal(
        Graph(layout=dict(graph), mode='spatial').A,
        Graph(layout=ours, mode='spatial').A)


def test_custom_dict_layout():
    cfg = dict(
        num_node=5,
        inward=[[1, 0], [2, 1], [3, 1], [4, 0]],
        center=0,
        spine=[0, 1],
        shoulders=[3, 2],
        joint_names=['root', 'chest', 'r', 'l', 'leg'])
    layout = get_layout(cfg)
    assert isinstance(layout, SkeletonLayout)
    assert layout.name == 'custom'
    assert layout.origin == 0  # defaults to the centre
    assert layout.inward == ((1, 0), (2, 1), (3, 1), (4, 0))
    assert layout.spine == (0, 1) and layout.shoulders == (3, 2)
    np.testing.assert_array_equal(layout.parents, [0, 0, 1, 1, 0])
    assert layout.bone_pairs == [(0, 0), (1, 0), (2, 1), (3, 1), (4, 0)]
    # the graph dict round-trips and is accepted by mmaction2's Graph
    assert get_layout(layout.graph_cfg()) == SkeletonLayout(
        name='custom', num_node=5, inward=layout.inward, center=0)
    A = Graph(layout=layout.graph_cfg(), mode='spatial').A
    assert A.shape == (3, 5, 5)
    # the input dict is not modified
    assert cfg['spine'] == [0, 1]


def test_custom_layout_with_name_and_origin():
    layout = get_layout(
        dict(
            name='tri',
            num_node=3,
            inward=[(0, 1), (2, 1)],
            center=1,
            origin=0))
    assert layout.name == 'tri'
    assert layout.origin == 0 and layout.center == 1


def test_get_layout_passes_instances_through_and_rejects_other_types():
    assert get_layout(COCO) is COCO
    with pytest.raises(TypeError, match='int'):
        get_layout(17)


@pytest.mark.parametrize('cfg, pattern', [
    (dict(num_node=4, inward=[(1, 2), (2, 1),
                              (3, 0)], center=0), r'cycle through joint 1'),
    (dict(num_node=4, inward=[(1, 0), (2, 1)],
          center=0), r'exactly one parent; children are \[1, 2\]'),
    (dict(num_node=3, inward=[(1, 0), (2, 0), (2, 1)],
          center=0), r'exactly one parent; children are \[1, 2, 2\]'),
    (dict(num_node=3, inward=[(1, 0), (2, 0),
                              (0, 1)], center=0), r'exactly one parent'),
    (dict(num_node=3, inward=[(1, 0), (3, 0)],
          center=0), r'bad edge \(3, 0\) for 3 joints'),
    (dict(num_node=3, inward=[(1, 0),
                              (2, -1)], center=0), r'bad edge \(2, -1\)'),
    (dict(num_node=3, inward=[(1, 0),
                              (2, 2)], center=0), r'bad edge \(2, 2\)'),
    (dict(num_node=3, inward=[(1, 0),
                              (2, 0)], center=3), r'center=3 not in \[0, 3\)'),
    (dict(num_node=3, inward=[(1, 0),
                              (2, 0)], center=0, origin=7), r'origin=7'),
    (dict(num_node=3, inward=[(1, 0), (2, 0)], center=0,
          spine=(0, 5)), r'spine=\(0, 5\)'),
    (dict(num_node=3, inward=[(1, 0), (2, 0)], center=0,
          shoulders=(-1, 1)), r'shoulders=\(-1, 1\)'),
    (dict(
        num_node=3, inward=[(1, 0), (2, 0)], center=0,
        joint_names=('a', 'b')), r'2 joint names for 3 joints'),
    (dict(num_node=0, inward=[], center=0), r'num_node must be >= 1'),
    (dict(num_node=3, inward=[(1, 0), (2, 0)], center=0,
          colour='red'), r"unknown skeleton layout field\(s\) \['colour'\]"),
    (dict(num_node=3, center=0), r"needs \['inward'\]"),
    (dict(inward=[(1, 0)]), r"needs \['num_node', 'center'\]"),
])
def test_bad_custom_layout_raises(cfg, pattern):
    with pytest.raises(ValueError, match=pattern):
        get_layout(cfg)


def test_bad_layout_message_names_the_layout():
    with pytest.raises(ValueError, match=r"skeleton layout 'broken'"):
        get_layout(dict(name='broken', num_node=3, inward=[(1, 0)], center=0))


def test_unknown_layout_name_lists_builtins():
    with pytest.raises(ValueError) as info:
        get_layout('ntu')
    msg = str(info.value)
    assert "unknown skeleton layout 'ntu'" in msg
    for name in BUILTIN_SIZES:
        assert repr(name) in msg


def test_layout_is_immutable():
    with pytest.raises(AttributeError):
        NTU_RGBD.center = 0
