"""Scheduled etcd snapshots on the masters (``spec.backup``): the program the timer runs
(``program.py``, stdlib only, installed on every master) and what sealer installs for it
(``render.py``: the program, the service and the timer, pure)."""
