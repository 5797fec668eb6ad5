"""Scale-out on existing engines: Slurm array jobs (`slurm.py`) and Ray actors (`ray_exec.py`)
over the shards of one launch folder (`plan.py`), merged with the same code as `sal merge`."""
