"""Adapters from the Monitor to the frameworks practitioners use; each one is optional.

- ``collapsekit.integrations.lightning``: ``CollapsekitCallback`` for a Lightning
  ``Trainer`` (``pip install 'collapsekit[lightning]'``);
- ``collapsekit.integrations.tensorboard``: ``log_to(writer)``, an ``on_metrics``
  callback writing every history row and the sample plot to a ``SummaryWriter``
  (``pip install 'collapsekit[tensorboard]'``).

Each imports its framework only when imported itself, and uses only the public
Monitor API, as the reference models do.
"""
