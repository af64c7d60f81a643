"""A deterministic synthetic skeleton-action generator (NTU RGB+D layout).

It lets the toolbox train and evaluate end to end with no download: each class
is a periodic movement of a forward-kinematics body, and every sample varies in
speed, amplitude, phase, body size, viewpoint, position, length and sensor
noise, so a model must learn the movement, not a fixed pattern.
"""
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

from mmcsre.structures import NTU_RGBD

# Rest pose (metres; x to the body's left, y up, z towards the camera),
# in NTU RGB+D joint order.
_REST_POSE = np.array(
    [
        [0.00, 0.00, 0.00],  # 0 spine base
        [0.00, 0.25, 0.00],  # 1 spine mid
        [0.00, 0.58, 0.00],  # 2 neck
        [0.00, 0.72, 0.00],  # 3 head
        [0.18, 0.48, 0.00],  # 4 shoulder left
        [0.20, 0.22, 0.00],  # 5 elbow left
        [0.21, -0.02, 0.00],  # 6 wrist left
        [0.21, -0.08, 0.00],  # 7 hand left
        [-0.18, 0.48, 0.00],  # 8 shoulder right
        [-0.20, 0.22, 0.00],  # 9 elbow right
        [-0.21, -0.02, 0.00],  # 10 wrist right
        [-0.21, -0.08, 0.00],  # 11 hand right
        [0.10, -0.02, 0.00],  # 12 hip left
        [0.10, -0.45, 0.00],  # 13 knee left
        [0.10, -0.85, 0.00],  # 14 ankle left
        [0.10, -0.90, 0.10],  # 15 foot left
        [-0.10, -0.02, 0.00],  # 16 hip right
        [-0.10, -0.45, 0.00],  # 17 knee right
        [-0.10, -0.85, 0.00],  # 18 ankle right
        [-0.10, -0.90, 0.10],  # 19 foot right
        [0.00, 0.50, 0.00],  # 20 spine shoulder
        [0.21, -0.14, 0.00],  # 21 hand tip left
        [0.18, -0.10, 0.03],  # 22 thumb left
        [-0.21, -0.14, 0.00],  # 23 hand tip right
        [-0.18, -0.10, 0.03],  # 24 thumb right
    ],
    dtype=np.float64)

# The NTU tree re-rooted at the spine base, listed parents-first for FK.
_FK_ORDER = (0, 1, 12, 16, 20, 2, 4, 8, 13, 17, 3, 5, 9, 14, 18, 6, 10, 15, 19,
             7, 11, 21, 22, 23, 24)
_FK_PARENT = {
    1: 0,
    12: 0,
    16: 0,
    20: 1,
    2: 20,
    4: 20,
    8: 20,
    13: 12,
    17: 16,
    3: 2,
    5: 4,
    9: 8,
    14: 13,
    18: 17,
    6: 5,
    10: 9,
    15: 14,
    19: 18,
    7: 6,
    11: 10,
    21: 7,
    22: 7,
    23: 11,
    24: 11
}

# Rotatable joints: a rotation at a joint moves all its descendants.
SPINE, L_SHOULDER, L_ELBOW, R_SHOULDER, R_ELBOW = 1, 4, 5, 8, 9
L_HIP, L_KNEE, R_HIP, R_KNEE = 12, 13, 16, 17


def _rot(axis: str, angle: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotations about a coordinate axis by ``angle`` (T,)."""
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(angle), np.zeros_like(angle)
    if axis == 'x':
        rows = [[one, zero, zero], [zero, c, -s], [zero, s, c]]
    elif axis == 'y':
        rows = [[c, zero, s], [zero, one, zero], [-s, zero, c]]
    else:
        rows = [[c, -s, zero], [s, c, zero], [zero, zero, one]]
    return np.stack([np.stack(r, -1) for r in rows], -2)


def _wave(t: np.ndarray) -> np.ndarray:
    """A sine of period 1 over the phase ``t`` (T,)."""
    return np.sin(2 * np.pi * t)


def _pulse(t: np.ndarray) -> np.ndarray:
    """0 -> 1 -> 0 once per period."""
    return 0.5 - 0.5 * np.cos(2 * np.pi * t)


# Each action maps phase t (T,) and amplitude a to joint angles (radians):
# {joint: [(axis, angle (T,)), ...]} applied in order, and a root lift (T,).
ActionFn = Callable[[np.ndarray, float], Tuple[Dict, np.ndarray]]


def _wave_hand(side: int) -> ActionFn:
    """Waving one hand (``side`` -1: right, 1: left): the arm raised, the
    forearm swinging."""
    shoulder, elbow = (R_SHOULDER, R_ELBOW) if side < 0 else (L_SHOULDER,
                                                              L_ELBOW)

    def fn(t, a):
        raise_arm = np.full_like(t, side * -2.4 * min(a, 1.1))
        return {
            shoulder: [('z', raise_arm)],
            elbow: [('z', side * -0.6 * a * _wave(t))]
        }, 0 * t

    return fn


def _raise_arms(t, a):
    """Both arms raised sideways and lowered once per period."""
    up = 2.6 * a * _pulse(t)
    return {R_SHOULDER: [('z', up)], L_SHOULDER: [('z', -up)]}, 0 * t


def _punch(t, a):
    """Arms held forward, the right then the left elbow stretching."""
    right = _pulse(t) * (t % 1 < 0.5)
    left = _pulse(t) * (t % 1 >= 0.5)
    return {
        R_SHOULDER: [('x', -1.5 * np.ones_like(t))],
        R_ELBOW: [('x', -1.8 * a * (1 - right))],
        L_SHOULDER: [('x', -1.5 * np.ones_like(t))],
        L_ELBOW: [('x', -1.8 * a * (1 - left))],
    }, 0 * t


def _squat(t, a):
    """Hips and knees bending with the root lowered, arms forward."""
    depth = a * _pulse(t)
    return {
        SPINE: [('x', -0.3 * depth)],
        L_HIP: [('x', -1.3 * depth)],
        R_HIP: [('x', -1.3 * depth)],
        L_KNEE: [('x', 2.2 * depth)],
        R_KNEE: [('x', 2.2 * depth)],
        L_SHOULDER: [('x', -1.2 * depth)],
        R_SHOULDER: [('x', -1.2 * depth)],
    }, -0.35 * depth


def _kick(t, a):
    """The right leg swinging forward with a bent knee."""
    kick = a * _pulse(t)
    return {
        R_HIP: [('x', -1.4 * kick)],
        R_KNEE: [('x', 0.8 * kick * (1 - kick))]
    }, 0 * t


def _bow(t, a):
    """The upper body bending forward at the spine."""
    return {SPINE: [('x', -1.2 * a * _pulse(t))]}, 0 * t


def _jumping_jack(t, a):
    """Arms and legs spreading sideways while the root bounces."""
    open_ = a * _pulse(t)
    return {
        R_SHOULDER: [('z', 2.5 * open_)],
        L_SHOULDER: [('z', -2.5 * open_)],
        R_HIP: [('z', 0.35 * open_)],
        L_HIP: [('z', -0.35 * open_)],
    }, 0.12 * np.abs(_wave(2 * t))


def _clap(t, a):
    """Arms forward, the hands meeting twice per period."""
    together = _pulse(2 * t)
    return {
        R_SHOULDER: [('x', -1.4 * np.ones_like(t)),
                     ('y', -0.9 * a * together)],
        L_SHOULDER: [('x', -1.4 * np.ones_like(t)), ('y', 0.9 * a * together)],
        R_ELBOW: [('x', -0.3 * np.ones_like(t))],
        L_ELBOW: [('x', -0.3 * np.ones_like(t))],
    }, 0 * t


def _walk_in_place(t, a):
    """Alternating knee lifts with opposite arm swings."""
    swing = a * _wave(t)
    left_lift = np.clip(swing, 0, None)
    right_lift = np.clip(-swing, 0, None)
    return {
        L_HIP: [('x', -1.0 * left_lift)],
        L_KNEE: [('x', 1.6 * left_lift)],
        R_HIP: [('x', -1.0 * right_lift)],
        R_KNEE: [('x', 1.6 * right_lift)],
        L_SHOULDER: [('x', 0.5 * swing)],
        R_SHOULDER: [('x', -0.5 * swing)],
    }, 0 * t


ACTIONS: Dict[str, ActionFn] = {
    'wave right hand': _wave_hand(-1),
    'wave left hand': _wave_hand(1),
    'raise both arms': _raise_arms,
    'punch': _punch,
    'squat': _squat,
    'kick': _kick,
    'bow': _bow,
    'jumping jack': _jumping_jack,
    'clap': _clap,
    'walk in place': _walk_in_place,
}
CLASSES: Tuple[str, ...] = tuple(ACTIONS)


def forward_kinematics(angles: Dict[int, Sequence[Tuple[str, np.ndarray]]],
                       lift: np.ndarray, scale: float) -> np.ndarray:
    """Pose a scaled rest skeleton with per-frame joint rotations.

    Args:
        angles (dict): ``{joint: [(axis, angle (T,)), ...]}`` local
            rotations; a rotation at a joint moves its descendants.
        lift (np.ndarray): (T,) vertical offset of the whole body.
        scale (float): Body size factor.

    Returns:
        np.ndarray: (T, 25, 3) joint positions in the body frame.
    """
    T = len(lift)
    eye = np.broadcast_to(np.eye(3), (T, 3, 3))
    rest = _REST_POSE * scale
    pos = np.zeros((T, 25, 3))
    glob = {}
    for j in _FK_ORDER:
        local = eye
        for axis, angle in angles.get(j, ()):
            local = local @ _rot(axis, angle)
        if j == 0:
            pos[:, 0] = rest[0]
            glob[0] = local
            continue
        p = _FK_PARENT[j]
        offset = rest[j] - rest[p]
        pos[:, j] = pos[:, p] + np.einsum('tij,j->ti', glob[p], offset)
        glob[j] = glob[p] @ local
    pos[:, :, 1] += lift[:, None]
    return pos


def generate_sample(label: int,
                    rng: np.random.Generator,
                    min_frames: int = 40,
                    max_frames: int = 100) -> np.ndarray:
    """One random sequence of class ``label``.

    Args:
        label (int): Index into :data:`CLASSES`.
        rng (np.random.Generator): Source of all randomness.
        min_frames (int): Shortest sequence. Defaults to 40.
        max_frames (int): Longest sequence. Defaults to 100.

    Returns:
        np.ndarray: (1, T, 25, 3) float32 keypoints in camera coordinates
        (metres, y up, z depth), like Kinect v2's.
    """
    T = int(rng.integers(min_frames, max_frames + 1))
    cycles = rng.uniform(1.0, 2.5)  # speed: periods per sequence
    t = rng.uniform(0, 1) + cycles * np.arange(T) / T
    amplitude = rng.uniform(0.7, 1.15)
    angles, lift = ACTIONS[CLASSES[label]](t, amplitude)
    pose = forward_kinematics(angles, lift, scale=rng.uniform(0.85, 1.15))
    # Viewpoint: yaw about the vertical axis, slight camera pitch.
    yaw = _rot('y', np.array([rng.uniform(-np.pi / 4, np.pi / 4)]))[0]
    pitch = _rot('x', np.array([rng.uniform(-0.15, 0.15)]))[0]
    pose = pose @ (pitch @ yaw).T
    pose += np.array([
        rng.uniform(-0.5, 0.5),
        rng.uniform(-0.1, 0.1),
        rng.uniform(2.5, 3.5)
    ])
    pose += rng.normal(0, rng.uniform(0.005, 0.02), size=pose.shape)
    return pose[None].astype(np.float32)


def generate_annotations(num_classes: int = len(CLASSES),
                         samples_per_class: int = 40,
                         seed: int = 0,
                         prefix: str = 'synthetic') -> List[Dict]:
    """Deterministic pyskl-style annotations for ``num_classes`` actions.

    Args:
        num_classes (int): How many of :data:`CLASSES` to use (their first
            ``num_classes``). Defaults to all 10.
        samples_per_class (int): Samples per class. Defaults to 40.
        seed (int): Seed; the same seed always gives the same data.
            Defaults to 0.
        prefix (str): Prefix of each ``frame_dir``.

    Returns:
        list[dict]: Annotations with ``frame_dir``, ``label``,
        ``total_frames`` and ``keypoint`` (1, T, 25, 3).
    """
    if not 1 <= num_classes <= len(CLASSES):
        raise ValueError(f'num_classes must be in [1, {len(CLASSES)}], got '
                         f'{num_classes}')
    rng = np.random.default_rng(seed)
    annos = []
    for i in range(num_classes * samples_per_class):
        label = i % num_classes
        kp = generate_sample(label, rng)
        annos.append(
            dict(
                frame_dir=f'{prefix}_s{seed}_{i:05d}_c{label:02d}',
                label=label,
                total_frames=kp.shape[1],
                keypoint=kp))
    return annos


def generate_dataset(num_classes: int = len(CLASSES),
                     train_per_class: int = 40,
                     val_per_class: int = 20,
                     seed: int = 0) -> Dict:
    """A pyskl-style dict with ``train`` and ``val`` splits.

    Train and val are drawn from different seeds, so no sample repeats.

    Returns:
        dict: ``{'split': {'train': [...], 'val': [...]},
        'annotations': [...]}``.
    """
    train = generate_annotations(num_classes, train_per_class, 2 * seed,
                                 'train')
    val = generate_annotations(num_classes, val_per_class, 2 * seed + 1, 'val')
    return dict(
        split=dict(
            train=[a['frame_dir'] for a in train],
            val=[a['frame_dir'] for a in val]),
        annotations=train + val)


assert NTU_RGBD.num_node == len(_REST_POSE)
