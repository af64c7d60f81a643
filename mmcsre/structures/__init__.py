from .skeleton_layout import (BUILTIN_LAYOUTS, COCO, NTU_RGBD, NW_UCLA,
                              OPENPOSE, SkeletonLayout, get_layout)

__all__ = [
    'SkeletonLayout', 'get_layout', 'BUILTIN_LAYOUTS', 'NTU_RGBD', 'NW_UCLA',
    'COCO', 'OPENPOSE'
]
