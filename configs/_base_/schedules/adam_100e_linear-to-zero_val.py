# The CP-STN schedule (./adam_100e_linear-to-zero.py: Adam, lr 5e-5 decaying
# linearly to 0 over 100 epochs, cp-stn.txt Sec. 4.1.4) with a validation
# epoch after every training epoch, for the linear-evaluation and
# semi-supervised protocols.
_base_ = './adam_100e_linear-to-zero.py'
train_cfg = dict(val_begin=1, val_interval=1)
val_cfg = dict(_delete_=True, type='ValLoop')
test_cfg = dict(_delete_=True, type='TestLoop')
