# MS-G3D-style baseline of STF (STFGCN, use_stf=False: factorised pathway,
# K = 3 scales, no G3D) on Kinetics-skeleton 400 (OpenPose 18 joints, x, y
# and score, 2 persons, 300 frames repeat-padded), joint stream, MS-G3D's
# Kinetics recipe (see the schedule). Its final checkpoint is the starting
# point of stfgcn-ft_1xb32-joint-65e_kinetics400-skeleton-2d.py.
_base_ = './stfgcn_1xb32-joint-65e_kinetics400-skeleton-2d.py'
model = dict(backbone=dict(use_stf=False), stage_taps=None, aux_heads=None)
