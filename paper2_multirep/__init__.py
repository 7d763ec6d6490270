"""Paper 2 (Gao et al.): multi-representation knowledge distillation by cyclic distillation.

Modules: params (training dataclasses), branches (branch-network factory), mixup,
cyclic (Algorithm 1 and the independent baseline), experiments/tables (the result
tables as data and their runner). Nothing is imported here, so importing the package
stays cheap and free of TensorFlow.
"""
